"""Per-user generation limits: concurrent and hourly, 429 `generation_limit` with Retry-After."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from draftsmith.blogs.models import Blog
from draftsmith.db import utcnow
from tests.blogs.helpers import generate, new_session, ready_documents
from tests.conftest import make_user

NOTE = ("tides.md", b"# Tides\n\nTides rise and fall twice a day because of the moon.\n")


@pytest.fixture
def settings_overrides() -> dict:
    # slots to spare: held generations occupy theirs
    return {
        "generation_concurrency_limit": 2,
        "generation_hourly_limit": 3,
        "worker_concurrency": 6,
    }


def held(app) -> asyncio.Event:
    """Generations wait for the returned event before they run."""
    kinds = app.state.jobs.context.kinds
    kind, release = kinds["blog"], asyncio.Event()

    async def handler(ctx, row_id: str) -> None:
        await release.wait()
        await kind.handler(ctx, row_id)

    kinds["blog"] = dataclasses.replace(kind, handler=handler)
    return release


async def session_of(user) -> str:
    ids = await ready_documents(user, NOTE)
    return (await new_session(user, ids, topic="why tides rise and fall"))["id"]


async def wait_finished(app, count: int) -> None:
    for _ in range(600):
        async with app.state.db() as db:
            done = await db.scalar(select(func.count()).where(Blog.status.in_(("ready", "failed"))))
        if done >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the generations did not finish")


async def test_concurrent_and_hourly_limits(app, client, user):
    release = held(app)
    session_id = await session_of(user)
    await generate(user, session_id)
    await generate(user, session_id)
    refused = await user.post(f"/api/v1/sessions/{session_id}/generate")
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "generation_limit" and "2" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    # another user is not held back by this one
    other = await make_user(client, "grace@example.com")
    await generate(other, await session_of(other))

    release.set()
    await wait_finished(app, 3)
    await generate(user, session_id)  # the third of the hour
    await wait_finished(app, 4)
    refused = await user.post(f"/api/v1/sessions/{session_id}/generate")
    assert refused.status_code == 429 and refused.json()["code"] == "generation_limit"
    assert 3590 <= int(refused.headers["retry-after"]) <= 3600
    # the oldest of the hour ages out in 40 s: that is the wait
    async with app.state.db() as db:
        mine = select(Blog.created_at).where(Blog.session_id == session_id)
        oldest = await db.scalar(mine.order_by(Blog.created_at).limit(1))
        await db.execute(
            update(Blog)
            .where(Blog.created_at == oldest)
            .values(created_at=utcnow() - timedelta(minutes=59, seconds=20))
        )
        await db.commit()
    refused = await user.post(f"/api/v1/sessions/{session_id}/generate")
    assert refused.status_code == 429 and 35 <= int(refused.headers["retry-after"]) <= 40
    async with app.state.db() as db:
        assert await db.scalar(select(func.count()).where(Blog.session_id == session_id)) == 3


async def test_concurrent_requests_cannot_pass_the_limit_together(app, user):
    held(app)  # nothing finishes while the requests race
    session_id = await session_of(user)
    url = f"/api/v1/sessions/{session_id}/generate"
    answers = await asyncio.gather(*(user.post(url) for _ in range(5)))
    assert sorted(r.status_code for r in answers) == [202, 202, 429, 429, 429]
