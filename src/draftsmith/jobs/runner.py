"""Running background work whose state lives on a database row.

A row is written ``queued`` before any message is sent.  A message only wakes a
runner: whoever receives one *claims* the fairest due row of its kind (across
users, see `_fairest_due`) with a conditional update (queued, or running with an
expired lease → running with a fresh lease), so duplicate messages and several
workers are harmless.  The recovery sweep re-sends work whose message was never
sent (the outbox), was lost, or whose worker died.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from redis.exceptions import RedisError
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from draftsmith import metrics
from draftsmith.config import Settings
from draftsmith.db import UNAVAILABLE, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
#: a bound on lost races (each one a row another runner took), against a pathological loop
CLAIM_TRIES = 1000
INTERRUPTED = "The work was interrupted too many times; try again."
INTERNAL = (
    "An internal error ({name}) stopped the work; it was not retried, as it would fail "
    "the same way again."
)


class PermanentError(Exception):
    """The work cannot succeed (a bad file, a refused request): fail the row with this message."""

    def __init__(self, message: str, code: str = "failed") -> None:
        super().__init__(message)
        self.code = code


class TransientError(Exception):
    """Trying again later may succeed (a service down or busy): retried with backoff."""

    def __init__(self, message: str, code: str = "service_unavailable") -> None:
        super().__init__(message)
        self.code = code


class Cancelled(Exception):
    """The row was cancelled (or deleted) while the work ran."""


def is_transient(exc: BaseException) -> bool:
    """A failure that may not happen again: a lost connection, a timeout, a service down.

    Anything else (a programming error, a malformed input) would fail the same way on
    the same input, so it is not retried."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (TransientError, RedisError, OSError, *UNAVAILABLE))


def _retry_message(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, TransientError):
        return str(exc), exc.code
    if isinstance(exc, (DBAPIError, *UNAVAILABLE)):
        return "The database was unavailable.", "database_unavailable"
    if isinstance(exc, RedisError):
        return "Redis was unavailable.", "redis_unavailable"
    return f"A service was unavailable ({type(exc).__name__}).", "service_unavailable"


class Queue(Protocol):
    async def send(self, kind: str, row_id: str) -> None:
        """Hand the work to a runner; raises when the transport is unavailable."""


Handler = Callable[["JobContext", str], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    """How one kind of row is worked: its model, handler and status names."""

    name: str
    model: Any
    handler: Handler
    running_status: str = "processing"
    done_status: str = "ready"
    #: called in the transaction that marks a row failed, with its message and code
    #: (e.g. to record an event with it)
    on_failed: Callable[[AsyncSession, str, str, str], Awaitable[None]] | None = None
    #: called by every recovery sweep, to clean up what interrupted work left behind
    tidy: Callable[[JobContext], Awaitable[None]] | None = None


@dataclass
class JobContext:
    """What a handler gets: settings, a database session factory, the queue and the kinds.

    The kinds are registered where the application is assembled (app factory,
    worker entry point, one-shot CLI), so this package knows no domain.
    """

    settings: Settings
    db: async_sessionmaker[AsyncSession]
    queue: Queue | None = None
    kinds: dict[str, JobKind] = field(default_factory=dict)

    def register(self, *kinds: JobKind) -> None:
        for kind in kinds:
            self.kinds[kind.name] = kind


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2**attempts * 5) * random.uniform(0.8, 1.2))


def _due(kind: JobKind, now: datetime) -> ColumnElement[bool]:
    """Rows a runner may take: queued, or running with an expired lease; and not delayed."""
    model = kind.model
    return and_(
        or_(
            model.status == "queued",
            (model.status == kind.running_status) & (model.lease_expires_at < now),
        ),
        or_(model.run_after.is_(None), model.run_after <= now),
    )


async def claim(ctx: JobContext, kind: JobKind, row_id: str) -> bool:
    now = utcnow()
    model = kind.model
    async with ctx.db() as db:
        result = await db.execute(
            update(model)
            .where(model.id == row_id, _due(kind, now))
            .values(
                status=kind.running_status,
                attempts=model.attempts + 1,
                lease_expires_at=now + timedelta(seconds=ctx.settings.job_lease_s),
                claimed_at=now,
                error=None,
                error_code=None,
            )
        )
        await db.commit()
        return result.rowcount == 1


def _fairest_due(kind: JobKind, now: datetime) -> Select:
    """Due rows, fairest first: the owner with the fewest rows running, then the owner
    served longest ago (never first), then the oldest row.  So one user's backlog delays
    another user's next row by at most the time for one slot to free up."""
    model, other = kind.model, aliased(kind.model)
    running = (
        select(func.count())
        .where(
            other.user_id == model.user_id,
            other.status == kind.running_status,
            other.lease_expires_at >= now,
        )
        .scalar_subquery()
    )
    last_served = (
        select(func.max(other.claimed_at)).where(other.user_id == model.user_id).scalar_subquery()
    )
    return (
        select(model.id)
        .where(_due(kind, now))
        .order_by(running, last_served.asc().nulls_first(), model.created_at, model.id)
    )


async def claim_next(ctx: JobContext, kind: JobKind) -> str | None:
    """Claim the fairest due row of the kind (see `_fairest_due`); None when none is due.

    The conditional update in `claim` settles races: a runner that loses one takes the next.
    Runners woken together all pick the same fairest row, so one may lose many races in a
    row; it keeps trying while rows are due (each lost race is a row another runner took),
    as giving up would drop its wake-up and leave a row for the resend sweep."""
    for _ in range(CLAIM_TRIES):
        async with ctx.db() as db:
            row_id = await db.scalar(_fairest_due(kind, utcnow()).limit(1))
        if row_id is None:
            return None
        if await claim(ctx, kind, row_id):
            return row_id
    log.warning(
        "lost %d races for %s work in a row; the sweep sends it again", CLAIM_TRIES, kind.name
    )
    return None


async def _heartbeat(ctx: JobContext, kind: JobKind, row_id: str) -> None:
    """Keep the lease alive while the work runs (through database outages: it keeps trying)."""
    model = kind.model
    interval = max(1.0, ctx.settings.job_lease_s / 3)
    while True:
        await asyncio.sleep(interval)
        try:
            async with ctx.db() as db:
                await db.execute(
                    update(model)
                    .where(model.id == row_id, model.status == kind.running_status)
                    .values(lease_expires_at=utcnow() + timedelta(seconds=ctx.settings.job_lease_s))
                )
                await db.commit()
        except Exception as exc:  # the next beat tries again; the work itself reports failures
            log.debug("heartbeat of %s %s failed: %s", kind.name, row_id, exc)


async def _reconnecting(call: Callable[[], Awaitable[Any]]) -> Any:
    """``await call()``, once more if it met a connection the database had dropped (a
    restart): that error invalidated the pool, so the second try gets a fresh connection."""
    try:
        return await call()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        return await call()


async def run(ctx: JobContext, kind_name: str, row_id: str) -> None:
    """Claim and work this row (the one-shot CLI); record failure or schedule a retry.
    Never raises."""
    kind = ctx.kinds[kind_name]
    try:
        if not await _reconnecting(lambda: claim(ctx, kind, row_id)):
            return  # done, running elsewhere, deleted or not due yet
    except Exception as exc:
        log.warning("could not claim %s %s: %s", kind_name, row_id, exc)
        return  # still queued: the sweep sends it again
    await _run_claimed(ctx, kind, row_id)


async def run_next(ctx: JobContext, kind_name: str) -> None:
    """Claim and work the fairest due row of the kind.  Never raises.

    What queues deliver: a message only wakes a runner (one message per queued row), the
    database decides which row runs, so the order is fair across users in every mode."""
    kind = ctx.kinds[kind_name]
    try:
        row_id = await _reconnecting(lambda: claim_next(ctx, kind))
    except Exception as exc:
        log.warning("could not claim %s work: %s", kind_name, exc)
        return  # still queued: the sweep sends it again
    if row_id is not None:
        await _run_claimed(ctx, kind, row_id)


async def _run_claimed(ctx: JobContext, kind: JobKind, row_id: str) -> None:
    """Work a claimed row under a heartbeat, handing it back if the process stops."""
    kind_name = kind.name
    heartbeat = asyncio.create_task(_heartbeat(ctx, kind, row_id))
    metrics.JOBS_STARTED.labels(kind_name).inc()
    metrics.JOBS_RUNNING.labels(kind_name).inc()
    started, outcome = time.perf_counter(), "done"
    try:
        outcome = await _work(ctx, kind, row_id)
    except asyncio.CancelledError:
        outcome = "interrupted"
        # The process is stopping: hand the row back so it is picked up again at once.
        await asyncio.shield(_release(ctx, kind, row_id))
        raise
    except Exception:  # recording the outcome failed (the database went away): the lease runs out
        outcome = "error"
        log.exception("could not record the outcome of %s %s", kind_name, row_id)
    finally:
        heartbeat.cancel()
        metrics.JOBS_RUNNING.labels(kind_name).dec()
        metrics.JOB_DURATION.labels(kind_name, outcome).observe(time.perf_counter() - started)


async def _work(ctx: JobContext, kind: JobKind, row_id: str) -> str:
    """Run the handler and record its outcome; returns the outcome's name (for metrics)."""
    try:
        await kind.handler(ctx, row_id)
    except Cancelled:
        log.info("%s %s was cancelled", kind.name, row_id)
        return "cancelled"
    except PermanentError as exc:
        await _fail(ctx, kind, row_id, str(exc), exc.code)
        return "failed"
    except Exception as exc:
        if is_transient(exc):
            log.warning("%s %s failed, to be retried: %r", kind.name, row_id, exc)
            await _retry_or_fail(ctx, kind, row_id, exc)
        else:
            log.exception("%s %s failed; not retried", kind.name, row_id)
            message = INTERNAL.format(name=type(exc).__name__)
            await _fail(ctx, kind, row_id, message, "internal_error")
        return "error"
    return "done"


async def _finish(ctx: JobContext, kind: JobKind, row_id: str, **values: Any) -> None:
    model = kind.model
    async with ctx.db() as db:
        await db.execute(
            update(model)
            .where(model.id == row_id, model.status == kind.running_status)
            .values(lease_expires_at=None, **values)
        )
        await db.commit()


async def _fail(ctx: JobContext, kind: JobKind, row_id: str, message: str, code: str) -> None:
    model = kind.model
    async with ctx.db() as db:
        failed = await db.execute(
            update(model)
            .where(model.id == row_id, model.status == kind.running_status)
            .values(status="failed", error=message, error_code=code, lease_expires_at=None)
        )
        if failed.rowcount == 1 and kind.on_failed is not None:
            await kind.on_failed(db, row_id, message, code)
        await db.commit()
    if failed.rowcount == 1:
        metrics.JOBS_FAILED.labels(kind.name).inc()


async def _release(ctx: JobContext, kind: JobKind, row_id: str) -> None:
    model = kind.model
    async with ctx.db() as db:
        await db.execute(
            update(model)
            .where(model.id == row_id, model.status == kind.running_status)
            .values(
                status="queued",
                lease_expires_at=None,
                enqueued_at=None,
                attempts=model.attempts - 1,
            )
        )
        await db.commit()


async def _retry_or_fail(ctx: JobContext, kind: JobKind, row_id: str, exc: Exception) -> None:
    async with ctx.db() as db:
        attempts = await db.scalar(select(kind.model.attempts).where(kind.model.id == row_id))
    if attempts is None:
        return
    message, code = _retry_message(exc)
    if attempts >= MAX_ATTEMPTS:
        await _fail(ctx, kind, row_id, f"{message} (tried {attempts} times)", code)
        return
    # Queued again with a delay (the reason shown meanwhile); the sweep sends it when due.
    await _finish(
        ctx,
        kind,
        row_id,
        status="queued",
        enqueued_at=None,
        run_after=utcnow() + backoff(attempts),
        error=message,
        error_code=code,
    )


async def send(ctx: JobContext, kind_name: str, row_id: str) -> bool:
    """Send the message for a queued row and mark it sent; False leaves it in the outbox."""
    if ctx.queue is None:
        return False
    try:
        await ctx.queue.send(kind_name, row_id)
    except Exception:  # the queue logs the outage once; the sweep sends the row later
        return False
    metrics.JOBS_QUEUED.labels(kind_name).inc()
    model = ctx.kinds[kind_name].model
    async with ctx.db() as db:
        await db.execute(
            update(model)
            .where(model.id == row_id, model.status == "queued")
            .values(enqueued_at=utcnow())
        )
        await db.commit()
    return True


async def sweep(ctx: JobContext, *, resend_all: bool = False) -> int:
    """Re-send work that is due: never sent, sent but lost, or whose worker died.

    ``resend_all`` also re-sends queued work sent a moment ago: after a Redis outage its
    messages may be gone (duplicates are harmless: a row is claimed once)."""
    now = utcnow()
    lost_after = timedelta(seconds=0 if resend_all else ctx.settings.job_resend_s)
    resent = 0
    for kind in ctx.kinds.values():
        if kind.tidy is not None:
            try:
                await kind.tidy(ctx)
            except Exception:
                log.exception("tidying up after %s work failed", kind.name)
        model = kind.model
        async with ctx.db() as db:
            # A worker died mid-run: its lease ran out.
            interrupted = await db.execute(
                update(model)
                .where(
                    model.status == kind.running_status,
                    model.lease_expires_at < now,
                    model.attempts >= MAX_ATTEMPTS,
                )
                .values(
                    status="failed",
                    lease_expires_at=None,
                    error=INTERRUPTED,
                    error_code="interrupted",
                )
                .returning(model.id)
            )
            interrupted_ids = interrupted.scalars().all()
            metrics.JOBS_FAILED.labels(kind.name).inc(len(interrupted_ids))
            if kind.on_failed is not None:
                for failed_id in interrupted_ids:
                    await kind.on_failed(db, failed_id, INTERRUPTED, "interrupted")
            expired = await db.execute(
                update(model)
                .where(model.status == kind.running_status, model.lease_expires_at < now)
                .values(status="queued", enqueued_at=None, lease_expires_at=None)
                .returning(model.id)
            )
            ids = set(expired.scalars().all())
            due = await db.execute(
                select(model.id)
                .where(
                    model.status == "queued",
                    or_(model.enqueued_at.is_(None), model.enqueued_at <= now - lost_after),
                    or_(model.run_after.is_(None), model.run_after <= now),
                )
                .limit(500)
            )
            ids.update(due.scalars().all())
            await db.commit()
        for row_id in ids:
            resent += await send(ctx, kind.name, row_id)
    return resent
