"""Fair use per account: the database is the record (rows counted by owner and time),
so the limits hold across any number of web processes."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.auth.access import ERROR_SCHEMA
from draftsmith.auth.models import User
from draftsmith.db import utcnow
from draftsmith.errors import ApiError

HOUR = timedelta(hours=1)


async def lock_account(db: AsyncSession, user_id: str) -> None:
    """Serialise this user's limit-checked writes until the transaction ends.

    A no-op update takes the user's row lock on PostgreSQL and the write lock on
    SQLite, so a count read after it cannot be overtaken by a concurrent request."""
    await db.execute(update(User).where(User.id == user_id).values(id=User.id))


async def seconds_until_room(
    db: AsyncSession, model: Any, user_id: str, limit: int, incoming: int = 1
) -> int | None:
    """None when ``incoming`` more rows of ``model`` fit the user's hourly ``limit``; else
    the seconds until enough of their rows of the last hour have aged out of it."""
    recent = select(model.created_at).where(
        model.user_id == user_id, model.created_at > utcnow() - HOUR
    )
    count = await db.scalar(select(func.count()).select_from(recent.subquery()))
    excess = count + incoming - limit
    if excess <= 0:
        return None
    if incoming > limit:
        return int(HOUR.total_seconds())
    freeing = await db.scalar(recent.order_by(model.created_at).offset(excess - 1).limit(1))
    return max(1, math.ceil((freeing + HOUR - utcnow()).total_seconds()))


def too_many(code: str, detail: str, retry_after: int) -> ApiError:
    return ApiError(429, code, detail, {"Retry-After": str(retry_after)})


def documented(description: str, retry_after: bool = False) -> dict[str, Any]:
    """An OpenAPI response entry for an error with the ``{detail, code}`` body."""
    entry: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }
    if retry_after:
        entry["headers"] = {
            "Retry-After": {
                "description": "Seconds until the request can succeed.",
                "schema": {"type": "integer"},
            }
        }
    return entry
