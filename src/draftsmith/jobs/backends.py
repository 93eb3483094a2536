"""The two ways work reaches a runner: in-process tasks, or arq on Redis."""

from __future__ import annotations

import asyncio
import logging
import time

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from draftsmith.jobs import runner
from draftsmith.outage import Outage

log = logging.getLogger(__name__)

ARQ_FUNCTION = "run_job"


class InProcessQueue:
    """Runs work as tasks of this process with bounded concurrency (the embedded default)."""

    def __init__(self, ctx: runner.JobContext, concurrency: int) -> None:
        self.ctx = ctx
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task] = set()

    async def send(self, kind: str, row_id: str) -> None:
        task = asyncio.create_task(self._run(kind, row_id), name=f"job:{kind}:{row_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, kind: str, row_id: str) -> None:
        async with self._slots:
            await runner.run_next(self.ctx, kind)  # the fairest due row, not necessarily row_id

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

        self.retry_at = 0.0


class QueueUnavailable(ConnectionError):
    """Redis is down (or was a moment ago): the row stays in the outbox."""


class ArqQueue:
    """Sends work to `draftsmith worker` processes through Redis (arq).

    While Redis is down, sends fail at once (no connection attempt until the backoff
    has passed) and leave their rows in the outbox, which the sweep sends later."""

    def __init__(self, redis_url: str) -> None:
        self.redis_settings = redis_settings(redis_url)
        self._pool: ArqRedis | None = None
        self.outage = Outage("Redis (the job queue)")

    async def _connection(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(self.redis_settings, retry=0)
        return self._pool

    async def send(self, kind: str, row_id: str) -> None:
        if self.outage.down and time.monotonic() < self.outage.retry_at:
            raise QueueUnavailable("Redis is unavailable")
        try:
            pool = await self._connection()
            await pool.enqueue_job(ARQ_FUNCTION, kind, row_id)
        except Exception as exc:
            self.outage.failed(exc)
            # Drop the connection so the next attempt reconnects once Redis is back.
            await self.close()
            raise QueueUnavailable(f"Redis is unavailable: {exc}") from exc
        self.outage.recovered()

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await pool.aclose()
            except Exception:  # already broken
                log.debug("closing the arq pool failed", exc_info=True)


def redis_settings(url: str) -> RedisSettings:
    settings = RedisSettings.from_dsn(url)
    settings.conn_timeout = 3
    settings.conn_retries = 0
    return settings
