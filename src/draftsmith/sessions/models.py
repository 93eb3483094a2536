"""Generation sessions: a topic over some documents, with writing preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from draftsmith.db import Base, IdMixin, utcnow


class GenerationSession(IdMixin, Base):
    __tablename__ = "generation_sessions"
    label: ClassVar[str] = "Session"  # in "Session not found."

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(Text)
    document_ids: Mapped[list[str]] = mapped_column(JSON)
    audience: Mapped[str | None] = mapped_column(String(300))
    tone: Mapped[str | None] = mapped_column(String(100))
    length: Mapped[str] = mapped_column(String(10), default="medium")
    language: Mapped[str | None] = mapped_column(String(50))
    instructions: Mapped[str | None] = mapped_column(Text)
    engine: Mapped[str] = mapped_column(String(20))
    #: write even when the documents do not cover the topic (with a warning in the draft)
    allow_thin_sources: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: how well the documents cover the topic; null while a document is not ready
    coverage: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_generation_sessions_user_created", "user_id", "created_at", "id"),)
