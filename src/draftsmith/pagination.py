"""Keyset pagination over (created_at, id), newest first.

A cursor is ``<created_at in microseconds since 1970 UTC>.<id>`` of the last row of a
page; the schema states that format, and every value it allows is a valid cursor.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.errors import ApiError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CURSOR_PATTERN = r"^[0-9]{1,16}\.[0-9A-Za-z-]{1,64}$"
Cursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        description="The `next_cursor` of the previous page (`<microseconds>.<id>`); "
        "omit it for the first page.",
    ),
]


def encode_cursor(created_at: datetime, row_id: str) -> str:
    stamp = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    return f"{(stamp - EPOCH) // timedelta(microseconds=1)}.{row_id}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise ApiError(422, "invalid_cursor", "The cursor is not valid; start from the first page.")
    micros, _, row_id = cursor.partition(".")
    return EPOCH + timedelta(microseconds=int(micros)), row_id


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
