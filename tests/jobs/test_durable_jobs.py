"""Durable background jobs: Redis + separate worker processes, outbox, recovery sweep."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from draftsmith.app import create_app
from draftsmith.db import utcnow
from draftsmith.documents import storage
from draftsmith.documents.models import Document
from draftsmith.jobs import runner
from tests.blogs.helpers import generate, new_session, read_events
from tests.conftest import client_for, make_settings, make_user, wipe
from tests.documents.helpers import fixture, upload, wait_done
from tests.jobs.servers import OwnRedis


def worker_process(settings) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_")}
    env.update(
        DRAFTSMITH_DATA_DIR=str(settings.data_dir),
        DRAFTSMITH_DATABASE_URL=settings.database,
        DRAFTSMITH_REDIS_URL=settings.redis_url,
        DRAFTSMITH_SECRET_KEY=settings.secret(),
        DRAFTSMITH_LOG_LEVEL="warning",
    )
    return subprocess.Popen([sys.executable, "-m", "draftsmith.cli", "worker"], env=env)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
async def redis_app(tmp_path, postgres_url, redis_url):
    app = create_app(make_settings(tmp_path, postgres_url, redis_url=redis_url))
    async with app.router.lifespan_context(app):
        await wipe(app)
        yield app
        await wipe(app)


async def test_postgres_redis_and_separate_workers(redis_app):
    workers = [worker_process(redis_app.state.settings) for _ in range(2)]
    try:
        async with client_for(redis_app) as client:
            user = await make_user(client)
            files = [
                fixture("report.pdf"),
                fixture("lighthouses.docx"),
                fixture("lighthouses.html"),
                fixture("tide-pools.md"),
                fixture("encrypted.pdf"),
            ]
            body = await upload(user, *files)
            assert not redis_app.state.jobs.in_process
            results = [await wait_done(user, d["id"], timeout=120) for d in body["documents"]]
            assert [r["status"] for r in results] == ["ready", "ready", "ready", "ready", "failed"]
            assert "password" in results[-1]["error"]
            # generation runs on the same workers, its events reach this server through the database
            session = await new_session(
                user,
                [r["id"] for r in results[:4]],
                topic="tide pool animals and lighthouse keepers",
                length="short",
            )
            blog_id = await generate(user, session["id"])
            events = await read_events(user, session["id"])
            assert events[-1]["type"] == "done" and events[-1]["data"]["blog_id"] == blog_id
            assert (await user.get(f"/api/v1/blogs/{blog_id}")).json()["status"] == "ready"
    finally:
        for process in workers:
            stop(process)


@dataclass
class RedisScenario:
    redis: OwnRedis
    app: object
    user: object
    workers: list = field(default_factory=list)

    def start_worker(self) -> None:
        self.workers.append(worker_process(self.app.state.settings))


@pytest.fixture
async def own_redis_app(tmp_path, postgres_url):
    """The app over PostgreSQL and a Redis of this test (stoppable), with a signed-in user."""
    redis = OwnRedis()
    redis.start()
    app = create_app(
        make_settings(tmp_path, postgres_url, redis_url=redis.url, job_lease_s=5, job_resend_s=5)
    )
    scenario = None
    try:
        async with app.router.lifespan_context(app):
            await wipe(app)
            async with client_for(app) as client:
                scenario = RedisScenario(redis, app, await make_user(client))
                yield scenario
            await wipe(app)
    finally:
        for process in scenario.workers if scenario else []:
            stop(process)
        redis.stop()


async def test_upload_succeeds_while_redis_is_down_and_the_job_is_sent_later(own_redis_app):
    s = own_redis_app
    s.redis.stop()  # Redis goes away between sign-in and upload
    body = await upload(s.user, fixture("kelp-notes.md"))
    doc_id = body["documents"][0]["id"]
    async with s.app.state.db() as db:
        document = await db.get(Document, doc_id)
        assert document.status == "queued" and document.enqueued_at is None  # in the outbox
    s.redis.start()
    s.start_worker()
    # the app's sweep loop sends the outboxed job once Redis answers again
    assert (await wait_done(s.user, doc_id, timeout=90))["status"] == "ready"


async def test_a_message_lost_with_redis_is_sent_again(own_redis_app):
    """Redis dies after the upload's message was queued (it keeps nothing on disk), comes back
    empty, and the document still ends ready: the sweep re-sends what was never picked up."""
    s = own_redis_app
    body = await upload(s.user, fixture("tide-pools.md"))  # no worker yet: stays queued
    doc_id = body["documents"][0]["id"]
    async with s.app.state.db() as db:
        assert (await db.get(Document, doc_id)).enqueued_at is not None  # sent to Redis
    s.redis.stop()
    s.redis.start()  # back, but empty: the message is gone
    s.start_worker()
    assert (await wait_done(s.user, doc_id, timeout=90))["status"] == "ready"


async def set_state(app, doc_id: str, **values) -> None:
    """Put a document's job columns in the state a failure scenario leaves behind."""
    async with app.state.db() as db:
        await db.execute(update(Document).where(Document.id == doc_id).values(**values))
        await db.commit()


async def processed_document(user) -> str:
    """A document done processing, to put into the state a failure leaves behind."""
    body = await upload(user, fixture("tide-pools.md"))
    doc_id = body["documents"][0]["id"]
    await wait_done(user, doc_id)
    return doc_id


async def test_sweep_recovers_work_of_a_dead_worker(app, user):
    doc_id = await processed_document(user)
    # simulate a worker that claimed the row and died: processing, lease long gone
    await set_state(
        app,
        doc_id,
        status="processing",
        attempts=1,
        lease_expires_at=utcnow() - timedelta(seconds=1),
        enqueued_at=utcnow(),
    )
    assert await runner.sweep(app.state.jobs.context) >= 1
    assert (await wait_done(user, doc_id))["status"] == "ready"


async def test_sweep_resends_a_lost_message(app, user):
    doc_id = await processed_document(user)
    stale = utcnow() - timedelta(seconds=app.state.settings.job_resend_s + 5)
    await set_state(app, doc_id, status="queued", attempts=0, enqueued_at=stale)
    assert await runner.sweep(app.state.jobs.context) == 1
    assert (await wait_done(user, doc_id))["status"] == "ready"


async def test_a_worker_that_keeps_dying_ends_failed(app, user):
    doc_id = await processed_document(user)
    await set_state(
        app,
        doc_id,
        status="processing",
        attempts=runner.MAX_ATTEMPTS,
        lease_expires_at=utcnow() - timedelta(seconds=1),
    )
    await runner.sweep(app.state.jobs.context)
    async with app.state.db() as db:
        document = await db.get(Document, doc_id)
    assert document.status == "failed" and "interrupted" in document.error


async def test_duplicate_messages_process_once(app, user):
    body = await upload(user, fixture("changelog.md"))
    doc_id = body["documents"][0]["id"]
    first = await wait_done(user, doc_id)
    # the same message delivered again (or to two workers) finds nothing to claim
    await asyncio.gather(
        *(runner.run(app.state.jobs.context, "document", doc_id) for _ in range(3))
    )
    async with app.state.db() as db:
        document = await db.get(Document, doc_id)
    assert document.status == "ready" and document.attempts == 1
    assert document.chunk_count == first["chunk_count"]


async def test_transient_errors_retry_with_backoff(app, user, monkeypatch):
    from draftsmith.documents import pipeline

    calls = {"n": 0}
    real = pipeline.extract_and_chunk

    def flaky(*args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk hiccup")
        return real(*args)

    monkeypatch.setattr(pipeline, "extract_and_chunk", flaky)
    body = await upload(user, ("n.md", b"# Note\n\nsome words to index"))
    doc_id = body["documents"][0]["id"]
    for _ in range(100):
        async with app.state.db() as db:
            document = await db.get(Document, doc_id)
        if document.status == "queued" and document.run_after is not None:
            break
        await asyncio.sleep(0.05)
    assert document.attempts == 1 and document.run_after > utcnow()
    await set_state(app, doc_id, run_after=utcnow())  # make it due now
    await runner.sweep(app.state.jobs.context)
    done = await wait_done(user, doc_id)
    assert done["status"] == "ready" and calls["n"] == 2
    async with app.state.db() as db:
        assert (await db.scalar(select(Document.attempts).where(Document.id == doc_id))) == 2


async def test_the_sweep_removes_upload_temporaries_left_behind(app):
    temporaries = storage.tmp_dir(app.state.settings)
    left_behind = temporaries / "upload-interrupted"
    left_behind.write_bytes(b"half a file")
    an_hour_ago = time.time() - 3601
    os.utime(left_behind, (an_hour_ago, an_hour_ago))
    in_progress = temporaries / "upload-in-progress"
    in_progress.write_bytes(b"being written")
    await runner.sweep(app.state.jobs.context)
    assert not left_behind.exists() and in_progress.exists()
