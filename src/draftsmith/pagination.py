"""Keyset pagination over (created_at, id), newest first, with opaque cursors."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.errors import ApiError


def encode_cursor(created_at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{row_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, _, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(stamp), row_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            422, "invalid_cursor", "The cursor is not valid; start from the first page."
        ) from exc


async def newest_first(
    db: AsyncSession, query: Select, model: Any, limit: int, cursor: str | None
) -> tuple[list, str | None]:
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(
            (model.created_at < created_at)
            | ((model.created_at == created_at) & (model.id < row_id))
        )
    rows = (
        await db.scalars(query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1))
    ).all()
    next_cursor = (
        encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    )
    return list(rows[:limit]), next_cursor
