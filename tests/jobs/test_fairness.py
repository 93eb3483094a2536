"""Jobs are taken fairly across users: one user's backlog does not hold up another's job.

Counted in jobs started, not seconds: with one job slot, user A queues six documents,
then user B queues one; B's is the next job to start once it is queued."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from draftsmith.app import create_app
from draftsmith.jobs import runner
from draftsmith.jobs.worker import build_worker
from tests.conftest import client_for, make_settings, make_user, wipe
from tests.documents.helpers import upload, wait_done

BACKLOG = 6


@pytest.fixture
def settings_overrides() -> dict:
    return {"worker_concurrency": 1}


def recording(kinds: dict, started: list[str]) -> None:
    """Make the document kind note each row it starts, and take a while."""
    kind = kinds["document"]

    async def handler(ctx, row_id: str) -> None:
        started.append(row_id)
        await asyncio.sleep(0.2)
        await kind.handler(ctx, row_id)

    kinds["document"] = dataclasses.replace(kind, handler=handler)


def notes(owner: str, count: int) -> list[tuple[str, bytes]]:
    return [
        (f"{owner}-{i}.md", f"# {owner} note {i}\n\nwords of {owner}".encode())
        for i in range(count)
    ]


async def test_a_backlog_does_not_delay_another_users_job_in_process(app, client):
    started: list[str] = []
    recording(app.state.jobs.context.kinds, started)
    alice, bob = await make_user(client, "a@example.com"), await make_user(client, "b@example.com")
    backlog = [d["id"] for d in (await upload(alice, *notes("a", BACKLOG)))["documents"]]
    before = len(started)  # A's jobs already running or done when B queues
    (bobs,) = [d["id"] for d in (await upload(bob, *notes("b", 1)))["documents"]]
    for doc_id in [*backlog, bobs]:
        assert (await wait_done(alice if doc_id != bobs else bob, doc_id))["status"] == "ready"
    assert sorted(started) == sorted([*backlog, bobs])
    # at most one of A's jobs may start while B's upload request is being stored
    assert started.index(bobs) <= before + 1 < BACKLOG, (before, started.index(bobs))


async def test_a_backlog_does_not_delay_another_users_job_with_arq(
    tmp_path, database_url, redis_url
):
    """Messages only wake the worker; the claim decides: B's one job overtakes A's backlog
    although its message is the last in Redis."""
    settings = make_settings(tmp_path, database_url, redis_url=redis_url, worker_concurrency=1)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await wipe(app)
        async with client_for(app) as client:
            alice = await make_user(client, "a@example.com")
            bob = await make_user(client, "b@example.com")
            backlog = [d["id"] for d in (await upload(alice, *notes("a", BACKLOG)))["documents"]]
            (bobs,) = [d["id"] for d in (await upload(bob, *notes("b", 1)))["documents"]]
            started: list[str] = []
            kinds = dict(app.state.jobs.context.kinds)
            recording(kinds, started)
            worker = build_worker(settings, kinds.values(), burst=True)
            try:
                await asyncio.wait_for(worker.main(), timeout=120)
            finally:
                await worker.close()
            assert (await wait_done(bob, bobs, timeout=5))["status"] == "ready"
            assert sorted(started) == sorted([*backlog, bobs])
            # nothing ran when B queued: only A's oldest job (never served before) goes first
            assert started.index(bobs) == 1, started
        await wipe(app)


async def test_runners_racing_for_the_same_rows_each_claim_one(app, client):
    """Every woken runner claims a row while any is due: the fairest row is the same for
    all of them, so most lose their first races (a runner that gave up after a few lost
    races dropped its wake-up, and its row waited for the resend sweep, two minutes)."""
    ctx = app.state.jobs.context
    ctx.queue = None  # the rows stay queued: the runners below are the only ones
    alice = await make_user(client, "a@example.com")
    queued = {d["id"] for d in (await upload(alice, *notes("a", 16)))["documents"]}
    claimed = await asyncio.gather(
        *(runner.claim_next(ctx, ctx.kinds["document"]) for _ in range(len(queued)))
    )
    assert None not in claimed and set(claimed) == queued
    assert await runner.claim_next(ctx, ctx.kinds["document"]) is None
