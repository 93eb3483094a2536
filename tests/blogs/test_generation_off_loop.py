"""CPU-bound generation runs off the event loop: the server stays responsive meanwhile."""

from __future__ import annotations

import asyncio
import time

from tests.blogs.helpers import generate, new_session, ready_documents
from tests.blogs.test_generation_api import wait_blog
from tests.documents.helpers import fixture

SOURCES = (fixture("tide-pools.md"), fixture("lighthouses.md"), fixture("long.pdf"))
TICK_S = 0.01


async def loop_lag_while(condition_task: asyncio.Task) -> float:
    """The worst delay of a 10 ms sleep on this loop while the task runs."""
    worst = 0.0
    while not condition_task.done():
        started = time.perf_counter()
        await asyncio.sleep(TICK_S)
        worst = max(worst, time.perf_counter() - started - TICK_S)
    return worst


async def test_the_event_loop_stays_responsive_during_an_extractive_generation(app, user):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(
        user, doc_ids, topic="tide pool animals and lighthouse keepers", length="long"
    )
    lags = []
    for _ in range(2):  # the better of two runs: a scheduler hiccup is not a blocked loop
        started = time.perf_counter()
        blog_id = await generate(user, session["id"])
        done = asyncio.create_task(wait_blog(user, blog_id, timeout=120))
        worst = await loop_lag_while(done)
        blog = done.result()
        assert blog["status"] == "ready" and blog["engine"] == "extractive"
        print(
            f"generation {time.perf_counter() - started:.2f}s, worst loop lag {worst * 1000:.0f} ms"
        )
        lags.append(worst)
    # On the loop, one CPU-bound stage of this generation blocks it for about 250 ms or more
    # here; off the loop, the worst delay is a few switch intervals of the GIL (about 10 ms).
    assert min(lags) < 0.12, f"the event loop stalled {min(lags):.2f}s in both generations"
