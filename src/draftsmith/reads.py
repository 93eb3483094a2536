"""Reads of the hot request paths (the caller's session, a page of documents, a blog), as
SQLAlchemy Core statements built once, without an ORM session.

On SQLite they run on the event loop itself, against one read-only connection of this
thread. aiosqlite hands every call (execute, fetch, close, the rollback on return) to a
thread of its own connection; each hand-off costs the loop a GIL round trip that, under
load, takes up to a switch interval (5 ms), which made a read of twenty rows cost about 10 ms
and the tail 200 ms. A read in WAL mode never waits for a writer, and an indexed query of a
few rows costs less than one hand-off; ``busy_timeout`` bounds the rare wait (a WAL recovery).
Writes stay on aiosqlite: a writer may wait for another process's lock, the loop must not.

On PostgreSQL they run on a pooled asyncpg connection in autocommit (no BEGIN and ROLLBACK
round trips around one statement; asyncpg keeps the prepared statements).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Executable, Row, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import SingletonThreadPool

#: the longest a read on the loop may wait for SQLite's lock (WAL readers rarely wait at all)
SQLITE_READ_BUSY_MS = 2000


class Reads:
    """Run a Core statement and return its rows, the cheapest way the database allows."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sqlite = None
        self._base = engine
        self._engine = engine
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            url = engine.url.set(drivername="sqlite")
            # one connection per thread: the loop's (and a test client's loop in its thread)
            self._sqlite = create_engine(
                url,
                poolclass=SingletonThreadPool,
                pool_size=4,
                connect_args={"check_same_thread": False},  # closed by whoever disposes
            )
            event.listen(self._sqlite, "connect", _read_only_pragmas)
        else:
            self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def all(self, statement: Executable, params: dict[str, Any]) -> Sequence[Row]:
        if self._sqlite is not None:
            with self._sqlite.connect() as connection:
                return connection.execute(statement, params).all()
        async with self._engine.connect() as connection:
            return (await connection.execute(statement, params)).all()

    async def first(self, statement: Executable, params: dict[str, Any]) -> Row | None:
        rows = await self.all(statement, params)
        return rows[0] if rows else None

    @property
    def sync_engine(self) -> Engine:
        """The engine whose events see the statements (for listeners)."""
        return self._sqlite if self._sqlite is not None else self._base.sync_engine

    def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.dispose()


def _read_only_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_READ_BUSY_MS}")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()
