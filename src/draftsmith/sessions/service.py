"""Generation sessions and starting a generation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.blogs import events
from draftsmith.blogs.models import Blog
from draftsmith.config import Settings
from draftsmith.db import get_owned as owned_or_404
from draftsmith.documents.models import Document
from draftsmith.errors import ApiError
from draftsmith.sessions.models import GenerationSession


async def check_documents(db: AsyncSession, user_id: str, document_ids: list[str]) -> list[str]:
    """De-duplicated ids, all the caller's (else 422: never reveal others' ids)."""
    unique = list(dict.fromkeys(document_ids))
    owned = set(
        await db.scalars(select(Document.id).where(Document.id.in_(unique), Document.user_id == user_id))
    )
    unknown = [i for i in unique if i not in owned]
    if unknown:
        raise ApiError(422, "unknown_documents", f"These document ids are not yours or do not exist: {', '.join(unknown[:5])}.")
    return unique


def resolve_engine(settings: Settings, requested: str | None) -> str:
    engine = requested or settings.default_engine
    if engine == "llm" and not settings.llm_base_url:
        raise ApiError(422, "llm_not_configured", "The LLM engine is not configured on this server; use the extractive engine.")
    return engine


async def get_owned(db: AsyncSession, user_id: str, session_id: str) -> GenerationSession:
    return await owned_or_404(db, GenerationSession, user_id, session_id, "Session")


async def start_generation(db: AsyncSession, session: GenerationSession) -> Blog:
    """Create the queued blog (and its first event) in one transaction."""
    statuses = dict(
        (await db.execute(select(Document.id, Document.status).where(Document.id.in_(session.document_ids)))).all()
    )
    not_ready = [i for i in session.document_ids if statuses.get(i) != "ready"]
    if not_ready:
        raise ApiError(409, "documents_not_ready", f"{len(not_ready)} selected document(s) are not ready yet.")
    blog = Blog(
        user_id=session.user_id, session_id=session.id, title=session.title or session.topic[:300],
        engine=session.engine, status="queued", attempts=0, citations=[], revision=0,
    )
    db.add(blog)
    await db.flush()
    db.add(events.event_row(blog, "status", {"status": "queued", "stage": "queued", "message": "Waiting for a worker"}))
    await db.commit()
    return blog
