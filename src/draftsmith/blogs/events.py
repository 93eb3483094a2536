"""Progress events of generations: stored per blog, replayed and followed as SSE.

Events live in the database, so any process (a worker elsewhere) can write them
and any server can stream them; a reconnecting client resumes after the id it
last saw (``Last-Event-ID``), and a finished generation replays at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.sse import ServerSentEvent
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from draftsmith.blogs.models import Blog, BlogEvent

ACTIVE = ("queued", "generating")
POLL_S = 0.2
BATCH = 500
RETRY_MS = 2000  # how long a browser waits before reconnecting


def event_row(blog: Blog, type_: str, data: dict[str, Any]) -> BlogEvent:
    return new_event(blog.id, blog.session_id, type_, data)


def new_event(blog_id: str, session_id: str | None, type_: str, data: dict[str, Any]) -> BlogEvent:
    return BlogEvent(
        blog_id=blog_id, session_id=session_id, type=type_, data={"blog_id": blog_id, **data}
    )


def cancelled_event(blog: Blog) -> BlogEvent:
    return event_row(
        blog,
        "error",
        {"status": "cancelled", "code": "cancelled", "detail": "The generation was cancelled."},
    )


async def publish(
    db_sessions: async_sessionmaker[AsyncSession],
    blog_id: str,
    session_id: str | None,
    type_: str,
    data: dict[str, Any],
) -> None:
    """Store one event in its own transaction (a deleted blog's events are dropped)."""
    async with db_sessions() as db:
        db.add(new_event(blog_id, session_id, type_, data))
        try:
            await db.commit()
        except IntegrityError:  # the blog was deleted meanwhile
            await db.rollback()


def to_sse(event: BlogEvent) -> ServerSentEvent:
    payload = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"))
    return ServerSentEvent(id=str(event.id), event=event.type, raw_data=payload)


async def _poll(
    db_sessions: async_sessionmaker[AsyncSession],
    session_id: str,
    after_id: int,
    blog_id: str | None,
) -> tuple[bool, list[BlogEvent]]:
    """Whether a generation is still running, and the events after ``after_id``."""
    async with db_sessions() as db:
        # Activity first: a blog's terminal event commits with its final status,
        # so once it reads inactive, the fetch below includes that event.
        active_query = select(Blog.id).where(Blog.session_id == session_id, Blog.status.in_(ACTIVE))
        if blog_id:
            active_query = active_query.where(Blog.id == blog_id)
        active = (await db.execute(active_query.limit(1))).first() is not None
        query = select(BlogEvent).where(BlogEvent.session_id == session_id, BlogEvent.id > after_id)
        if blog_id:
            query = query.where(BlogEvent.blog_id == blog_id)
        events = list((await db.scalars(query.order_by(BlogEvent.id).limit(BATCH))).all())
    return active, events


async def follow(
    db_sessions: async_sessionmaker[AsyncSession],
    session_id: str,
    after_id: int,
    blog_id: str | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """Events after ``after_id``; the stream ends once no blog of the session is active.

    FastAPI frames them, sends keep-alive comments while idle and stops this
    generator when the client disconnects."""
    yield ServerSentEvent(retry=RETRY_MS)
    while True:
        # Shielded: a client that disconnects mid-query must not cut a pooled connection in half.
        active, events = await asyncio.shield(_poll(db_sessions, session_id, after_id, blog_id))
        for event in events:
            after_id = event.id
            yield to_sse(event)
        if len(events) == BATCH:
            continue  # more to replay
        if not active:
            return
        if not events:
            await asyncio.sleep(POLL_S)
