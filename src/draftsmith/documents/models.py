"""Documents and their chunks (what citations point to)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from draftsmith.db import Base, IdMixin, utcnow
from draftsmith.jobs.state import JobState


class Document(IdMixin, JobState, Base):
    __tablename__ = "documents"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    encoding: Mapped[str | None] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    page_count: Mapped[int | None] = mapped_column(Integer)
    word_count: Mapped[int | None] = mapped_column(Integer)
    #: the document's own publication date from its metadata (ISO ``YYYY[-MM[-DD]]``)
    source_date: Mapped[str | None] = mapped_column(String(10))
    chunk_count: Mapped[int | None] = mapped_column(Integer)
    markdown: Mapped[str | None] = mapped_column(Text)
    sections: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_documents_user_created", "user_id", "created_at", "id"),
        Index("ix_documents_user_sha256", "user_id", "sha256"),
    )


class ChunkRow(Base):
    """A passage of a document's Markdown: ``text == markdown[start:end]``."""

    __tablename__ = "chunks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    heading: Mapped[str | None] = mapped_column(Text)
    #: the label printed on ``page`` (PDF page labels, else the number)
    page_label: Mapped[str | None] = mapped_column(String(40))
    #: heading path of the chunk ("Installation › Linux")
    section: Mapped[str | None] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    word_count: Mapped[int] = mapped_column(Integer)
    #: navigation or apparatus (documents/boilerplate.py): shown, never retrieved for a draft
    boilerplate: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: float32 vector from the embeddings endpoint (documents/embeddings.py), when configured
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (UniqueConstraint("document_id", "ordinal"),)
