"""Reads of the hot request paths (the caller's session, a page of documents, a blog): Core
statements built once, compiled once per database, run on the driver's own connection and
answered as plain dicts (what the response models validate fastest).

SQLAlchemy compiles each statement and gives its types' bind and result processors (the UTC
datetimes); nothing else of it runs per request. Its execution layer (connection checkout,
events, cursor adaptation, result objects) cost more than the query itself: on PostgreSQL
about 0.45 ms of CPU per read against 0.1 ms for asyncpg alone.

On SQLite they run on the event loop itself, against one read-only connection of this
thread. aiosqlite hands every call (execute, fetch, close, the rollback on return) to a
thread of its own connection; each hand-off costs the loop a GIL round trip that, under
load, takes up to a switch interval (5 ms), which made a read of twenty rows cost about 10 ms
and the tail 200 ms. A read in WAL mode never waits for a writer, and an indexed query of a
few rows costs less than one hand-off; ``busy_timeout`` bounds the rare wait (a WAL recovery).
Writes stay on aiosqlite: a writer may wait for another process's lock, the loop must not.

On PostgreSQL they run on asyncpg connections of their own, in autocommit (no BEGIN and
ROLLBACK round trips around one statement), which keep their prepared statements. A
connection is returned as it is (asyncpg's pool would reset it, a round trip), closed when
a read is interrupted or fails with it, and replaced after a while; a lost connection drops
the idle ones too (after a restart they are all dead) and answers 503.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Executable
from sqlalchemy.dialects.postgresql.asyncpg import dialect as AsyncpgDialect
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

#: the longest a read on the loop may wait for SQLite's lock (WAL readers rarely wait at all)
SQLITE_READ_BUSY_MS = 2000
#: what ``pg_stat_activity`` shows for these connections
READER_NAME = "draftsmith-reads"
#: the longest a new PostgreSQL connection may take (asyncpg's default is a minute)
CONNECT_TIMEOUT_S = 10

Row = dict[str, Any]
Processor = Callable[[Any], Any] | None

#: what asyncpg raises when the server is down, restarting or the connection is gone
#: (TimeoutError, a connection attempt's, is an OSError)
_POSTGRES_LOST = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
)
#: connection options of the URL that SQLAlchemy's asyncpg dialect takes for itself
_SQLALCHEMY_ONLY = frozenset(
    {"async_fallback", "prepared_statement_cache_size", "prepared_statement_name_func"}
)


def asyncpg_connect_args(
    url: str | URL, name: str, timeout: float
) -> tuple[list[Any], dict[str, Any]]:
    """``asyncpg.connect``'s arguments for a database URL as SQLAlchemy's asyncpg dialect
    reads it (the URL's query options included, without those only SQLAlchemy takes), the
    connection named ``name`` in ``pg_stat_activity``."""
    url = make_url(url).set(drivername="postgresql+asyncpg")
    args, kwargs = AsyncpgDialect().create_connect_args(url)
    kwargs = {key: value for key, value in kwargs.items() if key not in _SQLALCHEMY_ONLY}
    settings = {"application_name": name, **kwargs.pop("server_settings", {})}
    return args, {**kwargs, "timeout": timeout, "server_settings": settings}


class DatabaseUnavailable(ConnectionError):
    """A hot read met a database that is down or a connection it dropped (answered 503)."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement as its database's SQL with positional parameters, and what turns the
    caller's values and the driver's into the statement's types."""

    sql: str
    binds: tuple[tuple[str, Processor], ...]
    constants: dict[str, Any]  # the values the statement binds itself (its literals)
    names: tuple[str, ...]
    results: tuple[Processor, ...] | None  # None: every value is used as the driver gives it

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect) -> Compiled:
        compiled = statement.compile(dialect=dialect)
        binds = tuple(
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup or ()
        )
        constants = {
            name: bind.value
            for name, bind in compiled.binds.items()
            if not bind.required and bind.callable is None
        }
        columns = list(statement.selected_columns)  # type: ignore[attr-defined]
        names = tuple(column.name for column in columns)
        if len(set(names)) != len(names):
            raise ValueError(f"a hot read selects two columns of one name: {names}")
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        results_used = results if any(results) else None
        return cls(str(compiled), binds, constants, names, results_used)

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        if self.constants:
            params = {**self.constants, **params}
        return [
            params[name] if process is None else process(params[name])
            for name, process in self.binds
        ]

    def rows(self, values: Sequence[Sequence[Any]]) -> list[Row]:
        names, results = self.names, self.results
        if results is None:
            return [dict(zip(names, row, strict=True)) for row in values]
        return [
            {
                name: value if process is None or value is None else process(value)
                for name, process, value in zip(names, results, row, strict=True)
            }
            for row in values
        ]


class Reads:
    """Run a Core statement and return its rows as dicts, the cheapest way the database
    allows. ``observers`` are called with each statement's SQL (tests count them).

    On PostgreSQL at most ``connections`` at once, each replaced after ``recycle_s``."""

    def __init__(self, engine: AsyncEngine, connections: int, recycle_s: float) -> None:
        self.observers: list[Callable[[str], None]] = []
        self._compiled: dict[Executable, Compiled] = {}
        self._dialect = engine.dialect
        self._sqlite: _SqliteConnections | None = None
        self._postgres: _PostgresConnections | None = None
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            self._sqlite = _SqliteConnections(engine.url.database)
        elif engine.dialect.name == "postgresql":
            self._postgres = _PostgresConnections(engine, connections, recycle_s)
        else:
            raise ValueError("Draftsmith needs PostgreSQL or an SQLite file (not :memory:)")

    def _compile(self, statement: Executable) -> Compiled:
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = Compiled.of(statement, self._dialect)
        return compiled

    async def all(self, statement: Executable, params: dict[str, Any]) -> list[Row]:
        compiled = self._compile(statement)
        for observe in self.observers:
            observe(compiled.sql)
        arguments = compiled.arguments(params)
        if self._postgres is not None:
            return compiled.rows(await self._postgres.fetch(compiled.sql, arguments))
        assert self._sqlite is not None
        try:
            values = self._sqlite.mine().execute(compiled.sql, arguments).fetchall()
        except sqlite3.OperationalError as exc:  # locked past the timeout, the file gone
            raise DatabaseUnavailable(str(exc)) from exc
        return compiled.rows(values)

    async def first(self, statement: Executable, params: dict[str, Any]) -> Row | None:
        rows = await self.all(statement, params)
        return rows[0] if rows else None

    async def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._postgres is not None:
            await self._postgres.close()


class _SqliteConnections:
    """One read-only connection per thread: the loop's (and a test client's loop in its
    thread)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []

    def mine(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # closed by whoever closes this object, from whichever thread
            connection = sqlite3.connect(self._path, check_same_thread=False)
            connection.execute(f"PRAGMA busy_timeout={SQLITE_READ_BUSY_MS}")
            connection.execute("PRAGMA query_only=ON")
            self._local.connection = connection
            self._all.append(connection)
        return connection

    def close(self) -> None:
        for connection in self._all:
            connection.close()
        self._all.clear()
        self._local = threading.local()


class _PostgresConnections:
    """At most ``size`` asyncpg connections, the idle ones reused newest first."""

    def __init__(self, engine: AsyncEngine, size: int, recycle_s: float) -> None:
        self._connect_args = asyncpg_connect_args(engine.url, READER_NAME, CONNECT_TIMEOUT_S)
        self._slots = asyncio.Semaphore(size)
        self._recycle_s = recycle_s
        self._idle: list[tuple[asyncpg.Connection, float]] = []  # with their expiry time

    async def fetch(self, sql: str, arguments: list[Any]) -> list[asyncpg.Record]:
        async with self._slots:
            connection, expires = await self._checkout()
            try:
                records = await connection.fetch(sql, *arguments)
            except _POSTGRES_LOST as exc:
                self._lost(connection)
                raise DatabaseUnavailable(str(exc)) from exc
            except asyncpg.PostgresError:
                self._idle.append((connection, expires))  # a failed statement: still usable
                raise
            except BaseException:  # cancelled mid-read: what the connection holds is unknown
                connection.terminate()
                raise
            self._idle.append((connection, expires))
            return records

    async def _checkout(self) -> tuple[asyncpg.Connection, float]:
        now = time.monotonic()
        while self._idle:
            connection, expires = self._idle.pop()
            if expires > now and not connection.is_closed():
                return connection, expires
            connection.terminate()
        args, kwargs = self._connect_args
        try:
            connection = await asyncpg.connect(*args, **kwargs)
            await connection.set_type_codec(
                "json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )
        except _POSTGRES_LOST as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        return connection, now + self._recycle_s

    def _lost(self, connection: asyncpg.Connection) -> None:
        """The server dropped a connection (a restart): the idle ones are dropped as well."""
        connection.terminate()
        while self._idle:
            self._idle.pop()[0].terminate()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        await asyncio.gather(*(c.close(timeout=2) for c, _ in idle), return_exceptions=True)
