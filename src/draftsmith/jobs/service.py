"""The job system of one process: its queue backend and the recovery sweep loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from draftsmith.config import Settings
from draftsmith.db import UNAVAILABLE
from draftsmith.jobs import runner
from draftsmith.jobs.backends import ArqQueue, InProcessQueue
from draftsmith.outage import Outage

log = logging.getLogger(__name__)

SWEEP_INTERVAL_S = 5.0


async def sweep_once(ctx: runner.JobContext, database: Outage) -> None:
    """One recovery sweep; a database outage is logged once, not at every sweep."""
    try:
        await runner.sweep(ctx)
    except UNAVAILABLE as exc:
        database.failed(exc)
        return
    except Exception:
        log.exception("job sweep failed; trying again at the next")
        return
    database.recovered()


class Jobs:
    def __init__(
        self,
        settings: Settings,
        db: async_sessionmaker[AsyncSession],
        kinds: Iterable[runner.JobKind],
    ) -> None:
        self.context = runner.JobContext(settings, db)
        self.context.register(*kinds)
        if settings.redis_url:
            self.queue: ArqQueue | InProcessQueue = ArqQueue(settings.redis_url)
        else:
            self.queue = InProcessQueue(self.context, settings.worker_concurrency)
        self.context.queue = self.queue
        self._sweeper: asyncio.Task | None = None

    @property
    def in_process(self) -> bool:
        return isinstance(self.queue, InProcessQueue)

    async def start(self, sweep_every: float = SWEEP_INTERVAL_S) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(sweep_every), name="job-sweep")

    async def _sweep_forever(self, every: float) -> None:
        database = Outage("The database (job sweep)")
        while True:
            await sweep_once(self.context, database)
            await asyncio.sleep(every)

    async def submit(self, kind: str, row_id: str) -> bool:
        """Send the message for a row already committed as queued (False: left in the outbox)."""
        return await runner.send(self.context, kind, row_id)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.queue.close()
