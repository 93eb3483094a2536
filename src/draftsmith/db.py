"""Database engine, session factory and the declarative base shared by every domain."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import DateTime, MetaData, String, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from draftsmith.errors import NotFound, error_response

M = TypeVar("M")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


#: what a database that is down, restarting or overloaded raises (a refused or lost connection,
#: a timeout, "the database system is shutting down"): passing, unlike a bug
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, ConnectionError, TimeoutError)
RETRY_AFTER_S = 5
RECYCLE_S = 1800
#: connections kept open: as many as the requests one process serves at once. A connection
#: past them (overflow) is closed when returned, so a smaller pool reconnected all the time
#: under load (a PostgreSQL backend forked, or an aiosqlite thread started and its PRAGMAs
#: run, per overflow). Grown, never shrunk: no nested-session audit is needed.
POOL_SIZE = 16
POOL_OVERFLOW = 4


def install_unavailable_handler(app: FastAPI) -> None:
    """While the database is unavailable, requests get 503 with ``Retry-After``, never 500."""

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        return error_response(
            503,
            "database_unavailable",
            "The database is unavailable for the moment; try again in a few seconds.",
            {"Retry-After": str(RETRY_AFTER_S)},
        )

    async def lost_connection(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return await unavailable(request, exc)
        raise exc  # a bug, not an outage: the outermost layer answers 500

    for exc_class in UNAVAILABLE:
        app.add_exception_handler(exc_class, unavailable)
    app.add_exception_handler(DBAPIError, lost_connection)


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No ping per checkout (a round trip per request): connections are recycled after
    # RECYCLE_S, and the first use of a dead one (after a database restart) answers 503 and
    # invalidates the whole pool, so the requests after it get fresh connections.
    return create_async_engine(
        url, pool_recycle=RECYCLE_S, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


READ_METHODS = frozenset({"GET", "HEAD"})


def read_session_factory(engine: AsyncEngine, **info: Any) -> async_sessionmaker[AsyncSession]:
    """Sessions for read-only requests: on PostgreSQL without a transaction (no BEGIN and
    ROLLBACK round trips around a single query); SQLite opens none for reads anyway."""
    if engine.dialect.name != "postgresql":
        return session_factory(engine, **info)
    return session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"), **info)


def session_factory(engine: AsyncEngine, **info: Any) -> async_sessionmaker[AsyncSession]:
    """Sessions of this engine. ``info`` names who is told of what they commit:
    ``live_sessions`` (auth) of revocations, ``signals`` of news for waiting streams."""
    info = {name: value for name, value in info.items() if value is not None}
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """Request-scoped session; the route commits what it means to keep. A session that
    never touched the database (a remembered caller, a page without data) has nothing to
    close."""
    state = request.app.state
    session = state.read_db() if request.method in READ_METHODS else state.db()
    try:
        yield session
    finally:
        if session.in_transaction():
            await session.close()


Db = Annotated[AsyncSession, Depends(get_db)]


async def get_owned(db: AsyncSession, model: type[M], row_id: str, user_id: str) -> M:
    """The user's row, or 404: another user's object is indistinguishable from a missing one.

    The 404 names the model by its ``label`` (default: the class name)."""
    row = await db.get(model, row_id)
    if row is None or row.user_id != user_id:
        raise NotFound(getattr(model, "label", model.__name__))
    return row
