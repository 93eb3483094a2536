"""/api/v1/sessions: generation sessions (starting a generation and its events: blogs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from draftsmith.auth.access import router
from draftsmith.auth.deps import CurrentCaller, settings_of
from draftsmith.db import Db, get_owned
from draftsmith.documents.coverage import coverage_of
from draftsmith.pagination import Cursor
from draftsmith.sessions import service
from draftsmith.sessions.models import GenerationSession
from draftsmith.sessions.schemas import (
    CoverageIn,
    CoverageOut,
    SessionIn,
    SessionOut,
    SessionPage,
    SessionPatch,
)

routes = router(prefix="/api/v1/sessions", tags=["sessions"])
coverage_routes = router(prefix="/api/v1/coverage", tags=["sessions"])


@coverage_routes.post("", response_model=CoverageOut, responses={409: {}, 422: {}})
async def measure_coverage(body: CoverageIn, caller: CurrentCaller, db: Db):
    """How well documents cover a topic.

    The topic's terms the documents contain (`found`) and never mention (`missing`), a score
    (0..1), whether it reaches the threshold generation needs (`covered`) and what the
    documents are about. 422 if a document id is not yours; 409 while one is not ready."""
    document_ids = await service.check_documents(db, caller.user.id, body.document_ids)
    return (await coverage_of(db, caller.user.id, body.topic, document_ids)).to_dict()


@routes.post("", status_code=201, response_model=SessionOut, responses={422: {}})
async def create_session(body: SessionIn, request: Request, caller: CurrentCaller, db: Db):
    """Start a generation session.

    A topic and the documents to write from, with optional title, audience, tone, length, language,
    instructions, engine and `allow_thin_sources`. 422 `language_unsupported` when the extractive
    engine is asked to write in another language than the documents'."""
    return await service.create(db, settings_of(request), caller.user.id, body)


@routes.get("", response_model=SessionPage, responses={422: {}})
async def list_sessions(
    caller: CurrentCaller,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
):
    """List your sessions, newest first.

    Page with `limit` and the `next_cursor` of the previous page."""
    return await service.page(db, caller.user.id, limit, cursor)


@routes.get("/{session_id}", response_model=SessionOut, responses={404: {}})
async def get_session(session_id: str, caller: CurrentCaller, db: Db):
    """One session.

    Its topic, documents, settings and how well the documents cover the topic."""
    session = await get_owned(db, GenerationSession, session_id, caller.user.id)
    return await service.with_coverage(db, session)


@routes.patch("/{session_id}", response_model=SessionOut, responses={404: {}, 422: {}})
async def update_session(
    session_id: str, body: SessionPatch, request: Request, caller: CurrentCaller, db: Db
):
    """Change a session.

    Only the fields sent are changed; the next generation uses them."""
    session = await get_owned(db, GenerationSession, session_id, caller.user.id)
    return await service.update(db, settings_of(request), session, body)


@routes.delete("/{session_id}", status_code=204, responses={404: {}})
async def delete_session(session_id: str, caller: CurrentCaller, db: Db):
    """Delete a session.

    Its blogs are kept (their `session_id` becomes null)."""
    await service.delete(db, await get_owned(db, GenerationSession, session_id, caller.user.id))
    return Response(status_code=204)
