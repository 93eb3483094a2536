"""/api/v1/sessions: generation sessions, starting a generation, progress events."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from draftsmith.auth.access import router
from draftsmith.auth.deps import CurrentCaller, settings_of
from draftsmith.blogs import events
from draftsmith.db import Db, utcnow
from draftsmith.errors import ApiError
from draftsmith.pagination import newest_first
from draftsmith.sessions import service
from draftsmith.sessions.models import GenerationSession
from draftsmith.sessions.schemas import (
    GenerateOut,
    SessionIn,
    SessionOut,
    SessionPage,
    SessionPatch,
)

routes = router(prefix="/api/v1/sessions", tags=["sessions"])



@routes.post("", status_code=201, response_model=SessionOut, responses={422: {}})
async def create_session(body: SessionIn, request: Request, caller: CurrentCaller, db: Db):
    document_ids = await service.check_documents(db, caller.user.id, body.document_ids)
    session = GenerationSession(
        user_id=caller.user.id, document_ids=document_ids,
        engine=service.resolve_engine(settings_of(request), body.engine),
        **body.model_dump(exclude={"document_ids", "engine"}),
    )
    db.add(session)
    await db.commit()
    return session


@routes.get("", response_model=SessionPage, responses={422: {}})
async def list_sessions(
    caller: CurrentCaller,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
):
    query = select(GenerationSession).where(GenerationSession.user_id == caller.user.id)
    items, next_cursor = await newest_first(db, query, GenerationSession, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@routes.get("/{session_id}", response_model=SessionOut, responses={404: {}})
async def get_session(session_id: str, caller: CurrentCaller, db: Db):
    return await service.get_owned(db, caller.user.id, session_id)


@routes.patch("/{session_id}", response_model=SessionOut, responses={404: {}, 422: {}})
async def update_session(session_id: str, body: SessionPatch, request: Request, caller: CurrentCaller, db: Db):
    session = await service.get_owned(db, caller.user.id, session_id)
    changes = body.model_dump(exclude_unset=True)
    for required in ("topic", "document_ids", "length"):
        if required in changes and changes[required] is None:
            raise ApiError(422, "validation_error", f"{required} cannot be null.")
    if "document_ids" in changes:
        changes["document_ids"] = await service.check_documents(db, caller.user.id, changes["document_ids"])
    if "engine" in changes:
        changes["engine"] = service.resolve_engine(settings_of(request), changes["engine"])
    for name, value in changes.items():
        setattr(session, name, value)
    session.updated_at = utcnow()
    await db.commit()
    return session


@routes.delete("/{session_id}", status_code=204, responses={404: {}})
async def delete_session(session_id: str, caller: CurrentCaller, db: Db):
    """Delete the session; its blogs are kept (their session_id becomes null)."""
    session = await service.get_owned(db, caller.user.id, session_id)
    await db.delete(session)
    await db.commit()
    return Response(status_code=204)


@routes.post("/{session_id}/generate", status_code=202, response_model=GenerateOut, responses={404: {}, 409: {}})
async def generate(session_id: str, request: Request, caller: CurrentCaller, db: Db):
    session = await service.get_owned(db, caller.user.id, session_id)
    blog = await service.start_generation(db, session)
    await request.app.state.jobs.submit("blog", blog.id)
    return {"blog_id": blog.id, "status": "queued"}


@routes.get(
    "/{session_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent progress events"}, 404: {}},
)
async def session_events(
    session_id: str,
    request: Request,
    caller: CurrentCaller,
    db: Db,
    blog_id: Annotated[str | None, Query(max_length=36, description="Only this blog's events")] = None,
    last_event_id: Annotated[str | None, Header()] = None,
):
    """Progress events (`status`, `outline`, `section`, `done`, `error`), each naming its blog.

    Replays what was missed (after `Last-Event-ID`, or from the start) and follows
    live events; the stream ends when no generation of the session is running."""
    await service.get_owned(db, caller.user.id, session_id)
    await db.close()  # the stream holds no request-scoped connection
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    frames = events.follow(request.app.state.sessions, session_id, after, blog_id, request.is_disconnected)
    return StreamingResponse(
        frames, media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
