"""Job state kept on the row it belongs to: the database is the source of truth."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class JobState:
    """Columns shared by every row that background work acts on.

    ``enqueued_at`` is the outbox marker: NULL means the message still has to
    be sent to the queue (e.g. Redis was down when the row was written).
    ``claimed_at`` is when a runner last took the row; with the owner's
    ``user_id`` and ``created_at`` (which every job row has) it orders fair claims.
    """

    status: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    #: stable snake_case reason of a failure (e.g. ``llm_unreachable``), next to ``error``
    error_code: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[datetime | None]
    lease_expires_at: Mapped[datetime | None]
    run_after: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
