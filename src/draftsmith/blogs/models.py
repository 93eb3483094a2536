"""Blogs (drafts), their revisions and their stored progress events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from draftsmith.db import Base, IdMixin, utcnow
from draftsmith.jobs.state import JobState


class Blog(IdMixin, JobState, Base):
    __tablename__ = "blogs"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("generation_sessions.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(300), default="")
    markdown: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    grounding: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: ``{title, sections: [{heading, points, query}]}``; rows written before outline
    #: review hold the bare list of sections (see `BlogOut`)
    outline: Mapped[dict[str, Any] | list[dict[str, Any]] | None] = mapped_column(JSON)
    #: the session's brief when this blog was generated (`draftsmith.sessions.brief`)
    brief: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(200))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    #: what the queued job does: None (plan and write), ``plan`` (stop at ``outline_ready``)
    #: or ``write`` (write the approved ``outline``)
    job_mode: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_blogs_user_created", "user_id", "created_at", "id"),)


class SectionRewrite(IdMixin, JobState, Base):
    """One body section of a ready blog written again: its own job, so the blog stays
    readable and editable meanwhile; a save that comes first makes it a conflict."""

    __tablename__ = "section_rewrites"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    blog_id: Mapped[str] = mapped_column(ForeignKey("blogs.id", ondelete="CASCADE"), index=True)
    section: Mapped[int] = mapped_column(Integer)
    #: the revision the rewrite starts from; the result is saved only on top of it
    base_revision: Mapped[int] = mapped_column(Integer)
    instructions: Mapped[str | None] = mapped_column(Text)
    #: the revision it produced
    revision: Mapped[int | None] = mapped_column(Integer)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BlogRevision(Base):
    __tablename__ = "blog_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    blog_id: Mapped[str] = mapped_column(ForeignKey("blogs.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    markdown: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # generated | edit | rewrite
    grounding: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("blog_id", "revision"),)


class BlogEvent(Base):
    """A progress event; its id is the server-sent event id (monotonic)."""

    __tablename__ = "blog_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    blog_id: Mapped[str] = mapped_column(ForeignKey("blogs.id", ondelete="CASCADE"))
    session_id: Mapped[str | None] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_blog_events_session_id", "session_id", "id"),
        Index("ix_blog_events_blog_id", "blog_id", "id"),
    )
