"""Generation sessions: a topic over some of the user's documents, with writing preferences."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.config import Settings
from draftsmith.db import utcnow
from draftsmith.documents import coverage
from draftsmith.documents.models import Document
from draftsmith.errors import ApiError
from draftsmith.pagination import newest_first
from draftsmith.sessions.models import GenerationSession
from draftsmith.sessions.schemas import SessionIn, SessionPatch

REQUIRED = ("topic", "document_ids", "length", "allow_thin_sources")


async def check_documents(db: AsyncSession, user_id: str, document_ids: list[str]) -> list[str]:
    """De-duplicated ids, all the caller's (else 422: never reveal others' ids)."""
    unique = list(dict.fromkeys(document_ids))
    owned = set(
        await db.scalars(
            select(Document.id).where(Document.id.in_(unique), Document.user_id == user_id)
        )
    )
    unknown = [i for i in unique if i not in owned]
    if unknown:
        raise ApiError(
            422,
            "unknown_documents",
            f"These document ids are not yours or do not exist: {', '.join(unknown[:5])}.",
        )
    return unique


def resolve_engine(settings: Settings, requested: str | None) -> str:
    engine = requested or settings.default_engine
    if engine == "llm" and not settings.llm_base_url:
        raise ApiError(
            422,
            "llm_not_configured",
            "The LLM engine is not configured on this server; use the extractive engine.",
        )
    return engine


async def check_language(db: AsyncSession, session: GenerationSession) -> None:
    """422 ``language_unsupported``: the extractive engine cannot translate its sources."""
    if session.engine != "extractive":
        return
    refusal = await coverage.translation_refusal(
        db, session.user_id, session.language, session.document_ids
    )
    if refusal:
        raise ApiError(422, "language_unsupported", refusal)


async def measure_coverage(db: AsyncSession, session: GenerationSession) -> None:
    """The session's coverage, or null while a document is not ready."""
    measured = await coverage.coverage_if_ready(
        db, session.user_id, session.topic, session.document_ids
    )
    session.coverage = measured.to_dict() if measured else None


async def create(
    db: AsyncSession, settings: Settings, user_id: str, body: SessionIn
) -> GenerationSession:
    session = GenerationSession(
        user_id=user_id,
        document_ids=await check_documents(db, user_id, body.document_ids),
        engine=resolve_engine(settings, body.engine),
        **body.model_dump(exclude={"document_ids", "engine"}),
    )
    await check_language(db, session)
    await measure_coverage(db, session)
    db.add(session)
    await db.commit()
    return session


async def with_coverage(db: AsyncSession, session: GenerationSession) -> GenerationSession:
    """The session, its coverage measured now if it was not yet (documents were processing)."""
    if session.coverage is None:
        await measure_coverage(db, session)
        if session.coverage is not None:
            await db.commit()
    return session


async def page(db: AsyncSession, user_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the user's sessions, newest first."""
    query = select(GenerationSession).where(GenerationSession.user_id == user_id)
    items, next_cursor = await newest_first(db, query, GenerationSession, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


async def update(
    db: AsyncSession, settings: Settings, session: GenerationSession, body: SessionPatch
) -> GenerationSession:
    """Apply the fields the caller sent; required fields cannot be cleared."""
    changes = body.model_dump(exclude_unset=True)
    for required in REQUIRED:
        if required in changes and changes[required] is None:
            raise ApiError(422, "validation_error", f"{required} cannot be null.")
    if "document_ids" in changes:
        changes["document_ids"] = await check_documents(
            db, session.user_id, changes["document_ids"]
        )
    if "engine" in changes:
        changes["engine"] = resolve_engine(settings, changes["engine"])
    for name, value in changes.items():
        setattr(session, name, value)
    if changes.keys() & {"language", "engine", "document_ids"}:
        await check_language(db, session)
    if changes.keys() & {"topic", "document_ids"} or session.coverage is None:
        await measure_coverage(db, session)
    session.updated_at = utcnow()
    await db.commit()
    return session


async def delete(db: AsyncSession, session: GenerationSession) -> None:
    """Delete the session; its blogs are kept (their session_id becomes null)."""
    await db.delete(session)
    await db.commit()
