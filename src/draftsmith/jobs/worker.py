"""`draftsmith worker`: an arq worker that runs queued work from Redis and outlives outages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from arq import cron
from arq.worker import Worker, func
from redis.exceptions import RedisError

from draftsmith.config import Settings
from draftsmith.db import create_engine, session_factory
from draftsmith.jobs import runner
from draftsmith.jobs.backends import ARQ_FUNCTION, ArqQueue, redis_settings
from draftsmith.jobs.service import sweep_once
from draftsmith.outage import Outage
from draftsmith.signals import Signals

log = logging.getLogger(__name__)

SWEEP_SECONDS = set(range(0, 60, 5))  # a dead worker's lease is found within seconds
REDIS_DOWN = (RedisError, OSError)


class ResilientWorker(Worker):
    """An arq worker whose poll loop survives Redis going away.

    arq's own loop ends the process at the first failed Redis call.  Here a failed poll
    is logged once per outage, the next one waits with backoff, and the client reconnects
    by itself when Redis is back; running jobs carry on meanwhile (their state is in the
    database), and work sent while Redis was down reaches the queue through the outbox."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outage = Outage("Redis")

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_DOWN as exc:
            await asyncio.sleep(self.outage.failed(exc))
            return
        if self.outage.down:
            self.outage.recovered()
            # messages queued before the outage may be gone with it: send them again
            task = asyncio.create_task(self._resend())
            self._resending = task  # keep a reference while it runs

    async def _resend(self) -> None:
        try:
            await runner.sweep(self.ctx["job"], resend_all=True)
        except Exception:
            log.exception("re-sending queued work after the outage failed")

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # arq takes a job slot before its first Redis call for the job and keeps it if
        # that call fails: hand it back, or each outage would leak slots.
        for job_id in job_ids:
            try:
                await super().start_jobs([job_id])
            except REDIS_DOWN:
                self._release_sem_dec_counter_on_complete()
                raise

    async def run_job(self, job_id: str, score: int) -> None:
        try:
            await super().run_job(job_id, score)
        except REDIS_DOWN as exc:  # the job's own state is in the database
            log.debug("recording job %s in Redis failed: %s", job_id, exc)

    async def close(self) -> None:
        try:
            await super().close()
        except REDIS_DOWN as exc:
            log.warning("Redis unavailable while stopping: %s", exc)


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
        ctx["signals"] = Signals(settings.redis_url)  # progress reaches the web processes' streams
        job = runner.JobContext(
            settings,
            session_factory(engine, signals=ctx["signals"]),
            ArqQueue(settings.redis_url),
        )
        job.register(*kinds)
        ctx["job"] = job
        ctx["database"] = Outage("The database (job sweep)")

    async def shutdown(ctx: dict[str, Any]) -> None:
        await ctx["job"].queue.close()
        await ctx["signals"].close()
        await ctx["engine"].dispose()

    async def run_job(ctx: dict[str, Any], kind: str, row_id: str) -> None:
        await runner.run_next(ctx["job"], kind)  # the fairest due row, not necessarily row_id

    async def sweep(ctx: dict[str, Any]) -> None:
        await sweep_once(ctx["job"], ctx["database"])

    return ResilientWorker(
        functions=[func(run_job, name=ARQ_FUNCTION, max_tries=1)],
        cron_jobs=[
            cron(sweep, name="sweep", second=SWEEP_SECONDS, run_at_startup=True, max_tries=1)
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
