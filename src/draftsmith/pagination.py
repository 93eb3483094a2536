"""Keyset pagination over (created_at, id), newest first, or over another key (a list
the caller sorts).

A cursor is ``<created_at in microseconds since 1970 UTC>.<id>`` of the last row of a
page; the schema states that format, and every value it allows is a valid cursor.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import Select, bindparam, select
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


async def sorted_page(
    db: AsyncSession,
    query: Select,
    model: Any,
    key: Any,
    descending: bool,
    limit: int,
    cursor: str | None,
    scope: Any,
    is_time: bool = True,
) -> tuple[list, str | None]:
    """One page ordered by ``key`` (a column or expression of ``model``), ties by id, with
    the same cursors as `newest_first`: for a time ``key`` its microseconds, else the key is
    read from the cursor's row (among the rows ``scope`` allows: a cursor naming a row
    that is gone, or never was, ends the list)."""
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        value = (
            created_at
            if is_time
            else select(key).where(model.id == row_id, scope).scalar_subquery()
        )
        if descending:
            query = query.where((key < value) | ((key == value) & (model.id < row_id)))
        else:
            query = query.where((key > value) | ((key == value) & (model.id > row_id)))
    order = (key.desc(), model.id.desc()) if descending else (key.asc(), model.id.asc())
    rows = (await db.execute(query.add_columns(key).order_by(*order).limit(limit + 1))).all()
    next_cursor = None
    if len(rows) > limit:
        last, last_key = rows[limit - 1]
        next_cursor = encode_cursor(last_key if is_time else last.created_at, last.id)
    return [row[0] for row in rows[:limit]], next_cursor


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
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last["created_at"], last["id"])
