"""`draftsmith worker`: an arq worker that runs queued work from Redis."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from arq import cron
from arq.worker import Worker, func

from draftsmith.config import Settings
from draftsmith.db import create_engine, session_factory
from draftsmith.jobs import runner
from draftsmith.jobs.backends import ARQ_FUNCTION, ArqQueue, redis_settings


def build_worker(
    settings: Settings, kinds: Iterable[runner.JobKind], *, burst: bool = False
) -> Worker:
    """An arq worker running the given kinds of work (registered by the caller, the CLI)."""
    if not settings.redis_url:
        raise ValueError(
            "DRAFTSMITH_REDIS_URL is not set: without Redis, `serve` runs jobs itself."
        )
    kinds = tuple(kinds)

    async def startup(ctx: dict[str, Any]) -> None:
        engine = create_engine(settings.database)
        ctx["engine"] = engine
        job = runner.JobContext(settings, session_factory(engine), ArqQueue(settings.redis_url))
        job.register(*kinds)
        ctx["job"] = job

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["job"].queue.close()
        await ctx["engine"].dispose()

    async def run_job(ctx: dict[str, Any], kind: str, row_id: str) -> None:
        await runner.run_next(ctx["job"], kind)  # the fairest due row, not necessarily row_id

    async def sweep(ctx: dict[str, Any]) -> None:
        await runner.sweep(ctx["job"])

    return Worker(
        functions=[func(run_job, name=ARQ_FUNCTION, max_tries=1)],
        cron_jobs=[
            cron(sweep, name="sweep", second={0, 15, 30, 45}, run_at_startup=True, max_tries=1)
        ],
        redis_settings=redis_settings(settings.redis_url),
        on_startup=startup,
        on_shutdown=shutdown,
        max_jobs=settings.worker_concurrency,
        job_timeout=6 * 3600,  # our own lease decides when work is lost
        keep_result=60,
        burst=burst,
        handle_signals=not burst,
    )
