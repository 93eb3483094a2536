"""Keyset pagination over (created_at, id), newest first.

A cursor is ``<created_at in microseconds since 1970 UTC>.<id>`` of the last row of a
page; the schema states that format, and every value it allows is a valid cursor.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Row, Select, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.errors import ApiError
from draftsmith.reads import Reads

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


def keyset_pages(query: Select, created_at: Any, row_id: Any) -> tuple[Select, Select]:
    """``query`` newest first as two statements built once: the first page and the pages
    after a cursor (bound: ``limit``; ``after_created`` and ``after_id``)."""
    after = bindparam("after_created", type_=created_at.type)
    following = query.where(
        (created_at < after) | ((created_at == after) & (row_id < bindparam("after_id")))
    )
    order = (created_at.desc(), row_id.desc())
    limit = bindparam("limit")
    return query.order_by(*order).limit(limit), following.order_by(*order).limit(limit)


async def newest_first_rows(
    reads: Reads,
    pages: tuple[Select, Select],
    params: dict[str, Any],
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of ``keyset_pages`` rows as plain dicts (validated once, by the response model)
    and the cursor of the next page."""
    statement, params = pages[0], {**params, "limit": limit + 1}
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        statement = pages[1]
        params.update(after_created=created_at, after_id=row_id)
    rows = await reads.all(statement, params)
    next_cursor = (
        encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    )
    return as_dicts(rows[:limit]), next_cursor


def as_dicts(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Rows as plain dicts (what the response models validate fastest)."""
    if not rows:
        return []
    names = rows[0]._fields
    return [dict(zip(names, row, strict=True)) for row in rows]
