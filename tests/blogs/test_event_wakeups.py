"""An open event stream reads the database only when a commit wakes it, not by polling: a
commit in the web process wakes it at once, and with Redis so does one in another process
(a worker). The wait for a wake-up is bounded well under the streams' slow safety read, so
these tests fail if the wake-up does not come."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import event

from draftsmith.app import create_app
from draftsmith.blogs import events
from draftsmith.blogs.models import Blog
from draftsmith.db import create_engine, session_factory, utcnow
from draftsmith.sessions.models import GenerationSession
from draftsmith.signals import CHANNEL, Signals
from tests.conftest import LiveServer, _wipe_url, login, make_settings, register, run_sync

WAKE_WITHIN_S = 8.0
assert WAKE_WITHIN_S < events.SAFETY_POLL_S


def event_reads(engine) -> list[str]:
    reads: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        if "FROM blog_events" in statement:
            reads.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    return reads


async def queued_later(db_sessions, user_id: str) -> tuple[str, str]:
    """A session whose blog is queued to run in an hour: its stream stays open and quiet."""
    async with db_sessions() as db:
        session = GenerationSession(
            user_id=user_id, topic="tide pools", document_ids=[], engine="extractive"
        )
        db.add(session)
        await db.flush()
        blog = Blog(
            user_id=user_id,
            session_id=session.id,
            engine="extractive",
            status="queued",
            enqueued_at=utcnow(),
            run_after=utcnow() + timedelta(hours=1),
        )
        db.add(blog)
        await db.commit()
        return session.id, blog.id


async def follow(client: httpx.AsyncClient, url: str, headers: dict, lines: asyncio.Queue):
    async with client.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                await lines.put(line.split(":", 1)[1].strip())
    await lines.put(None)  # the server ended the stream


async def wait_for(predicate, what: str) -> None:
    for _ in range(200):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def open_quiet_stream(server, app, db_sessions):
    client = httpx.AsyncClient(base_url=server.url, timeout=30)
    await register(client)
    token = (await login(client))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    user_id = (await client.get("/api/v1/auth/me", headers=headers)).json()["id"]
    session_id, blog_id = await queued_later(db_sessions, user_id)
    # that commit's wake-up (from another process: sent after the commit, received a little
    # later) must land before the stream opens, not count as a read of the idle stream
    signals = db_sessions.kw.get("info", {}).get("signals")
    if signals is not None:
        await signals.sent()
        await asyncio.sleep(0.5)
    reads = event_reads(app.state.engine)
    lines: asyncio.Queue = asyncio.Queue()
    url = f"/api/v1/sessions/{session_id}/events"
    stream = asyncio.create_task(follow(client, url, headers, lines))
    await wait_for(lambda: len(reads) >= 1, "the stream's first read")
    await asyncio.sleep(1.0)  # long enough for five polls of the old 200 ms loop
    assert len(reads) == 1, "an idle stream read the database"
    return client, headers, session_id, blog_id, lines, stream


def serve(tmp_path, database_url, **overrides):
    app = create_app(
        make_settings(tmp_path, database_url, base_url="http://127.0.0.1", **overrides)
    )
    return app, LiveServer(app)


async def test_a_commit_in_the_web_process_wakes_the_stream(tmp_path, sqlite_url):
    app, server = serve(tmp_path, sqlite_url)
    with server:
        run_sync(_wipe_url, sqlite_url)
        try:
            engine = create_engine(sqlite_url)
            client, headers, _, blog_id, lines, stream = await open_quiet_stream(
                server, app, session_factory(engine)
            )
            cancelled = await client.post(f"/api/v1/blogs/{blog_id}/cancel", headers=headers)
            assert cancelled.status_code == 202, cancelled.text
            assert await asyncio.wait_for(lines.get(), WAKE_WITHIN_S) == "error"
            assert await asyncio.wait_for(lines.get(), WAKE_WITHIN_S) is None
            await stream
            await client.aclose()
            await engine.dispose()
        finally:
            run_sync(_wipe_url, sqlite_url)


@pytest.mark.parametrize(
    "database, broker", [("sqlite", "redis"), ("postgres", "redis"), ("postgres", "notify")]
)
async def test_a_commit_in_another_process_wakes_the_stream(request, tmp_path, database, broker):
    """Through Redis pub/sub, or without Redis through PostgreSQL's NOTIFY (another web
    process's in-process worker)."""
    database_url = request.getfixturevalue(f"{database}_url")
    redis_url = request.getfixturevalue("redis_url") if broker == "redis" else None
    app, server = serve(tmp_path, database_url, redis_url=redis_url)
    with server:
        run_sync(_wipe_url, database_url)
        engine = create_engine(database_url)
        # what a `draftsmith worker` (or another web process) has
        worker_signals = Signals(redis_url, database_url)
        worker_db = session_factory(engine, signals=worker_signals)
        redis = Redis.from_url(redis_url) if redis_url else None
        try:
            if redis is not None:
                await wait_for_subscriber(redis)
            else:
                assert app.state.signals.listening
            client, _, session_id, blog_id, lines, stream = await open_quiet_stream(
                server, app, worker_db
            )
            await events.publish(worker_db, blog_id, session_id, "status", {"stage": "writing"})
            assert await asyncio.wait_for(lines.get(), WAKE_WITHIN_S) == "status"
            async with worker_db() as db:
                blog = await db.get(Blog, blog_id)
                blog.status = "cancelled"
                db.add(events.cancelled_event(blog))
                await db.commit()
            assert await asyncio.wait_for(lines.get(), WAKE_WITHIN_S) == "error"
            assert await asyncio.wait_for(lines.get(), WAKE_WITHIN_S) is None
            await stream
            await client.aclose()
        finally:
            await worker_signals.close()
            if redis is not None:
                await redis.aclose()
            await engine.dispose()
            run_sync(_wipe_url, database_url)


async def wait_for_subscriber(redis: Redis) -> None:
    for _ in range(200):
        if dict(await redis.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0) >= 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the web process did not subscribe to wake-ups")
