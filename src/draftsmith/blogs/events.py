"""Progress events of generations: stored per blog, replayed and followed as SSE.

Events live in the database, so any process (a worker elsewhere) can write them
and any server can stream them; a reconnecting client resumes after the id it
last saw (``Last-Event-ID``), and a finished generation replays at once.

An open stream reads the database only when woken: every commit that adds an event or
changes a blog wakes its session's streams (`draftsmith.signals`: in process, and through
Redis in every process). A slow safety read covers a wake-up that never came.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from itertools import chain
from typing import Any

from fastapi.sse import ServerSentEvent
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from draftsmith.blogs.models import Blog, BlogEvent, SectionRewrite
from draftsmith.signals import Signals

ACTIVE = ("queued", "generating")
#: a section rewrite (of a ready blog) keeps its session's streams open too
ACTIVE_REWRITE = ("queued", "running")
SAFETY_POLL_S = 20.0  # only if a wake-up was lost
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
    """Whether a generation (or a section rewrite) is still running, and the events after
    ``after_id``."""
    async with db_sessions() as db:
        # Activity first: a blog's terminal event commits with its final status,
        # so once it reads inactive, the fetch below includes that event.
        active_query = select(Blog.id).where(Blog.session_id == session_id, Blog.status.in_(ACTIVE))
        if blog_id:
            active_query = active_query.where(Blog.id == blog_id)
        active = (await db.execute(active_query.limit(1))).first() is not None
        if not active:
            rewriting = (
                select(SectionRewrite.id)
                .join(Blog, Blog.id == SectionRewrite.blog_id)
                .where(Blog.session_id == session_id, SectionRewrite.status.in_(ACTIVE_REWRITE))
            )
            if blog_id:
                rewriting = rewriting.where(SectionRewrite.blog_id == blog_id)
            active = (await db.execute(rewriting.limit(1))).first() is not None
        query = select(BlogEvent).where(BlogEvent.session_id == session_id, BlogEvent.id > after_id)
        if blog_id:
            query = query.where(BlogEvent.blog_id == blog_id)
        events = list((await db.scalars(query.order_by(BlogEvent.id).limit(BATCH))).all())
    return active, events


def topic(session_id: str) -> str:
    return f"generation-session:{session_id}"


async def follow(
    db_sessions: async_sessionmaker[AsyncSession],
    signals: Signals,
    session_id: str,
    after_id: int,
    blog_id: str | None = None,
) -> AsyncIterator[ServerSentEvent]:
    """Events after ``after_id``; the stream ends once no blog of the session is active.

    FastAPI frames them, sends keep-alive comments while idle and stops this
    generator when the client disconnects."""
    yield ServerSentEvent(retry=RETRY_MS)
    with signals.watch(topic(session_id)) as woken:
        while True:
            woken.clear()  # before reading: a commit from now on wakes the wait below
            # Shielded: a client that disconnects mid-query must not cut a pooled connection.
            active, events = await asyncio.shield(_poll(db_sessions, session_id, after_id, blog_id))
            for row in events:
                after_id = row.id
                yield to_sse(row)
            if len(events) == BATCH:
                continue  # more to replay
            if not active:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), SAFETY_POLL_S)


# -- wake-ups: a transaction that adds events or changes blogs wakes their streams on commit --


@event.listens_for(Session, "after_flush")
def _note_news(session: Session, _context: Any) -> None:
    if session.info.get("signals") is None:
        return
    news = session.info.setdefault("generation_news", set())
    for row in chain(session.new, session.dirty, session.deleted):
        if isinstance(row, BlogEvent | Blog) and row.session_id:
            news.add(topic(row.session_id))


@event.listens_for(Session, "after_commit")
def _wake_streams(session: Session) -> None:
    news = session.info.pop("generation_news", None)
    if news:
        session.info["signals"].notify(news)


@event.listens_for(Session, "after_rollback")
def _drop_news(session: Session) -> None:
    session.info.pop("generation_news", None)
