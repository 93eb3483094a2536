"""The hot reads: Core statements compiled once and run on the driver's own connections
give what the ORM gives (UTC datetimes, decoded JSON); on PostgreSQL their connections are
bounded, survive an interrupted read and a dropped connection, and an outage answers 503."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import bindparam, func, literal, select

from draftsmith.blogs.models import Blog
from draftsmith.blogs.reads import blog
from draftsmith.db import POOL_SIZE, utcnow
from draftsmith.reads import READER_NAME, DatabaseUnavailable, Reads
from tests.conftest import admin_fetch, make_user, terminate_backends

SLEEP = select(func.pg_sleep(bindparam("seconds")).label("slept"))
#: the connection that ran it (a sleep keeps it busy meanwhile)
BACKEND = select(func.pg_backend_pid().label("pid"), SLEEP.scalar_subquery().label("slept"))
CITATION = {"n": 1, "document_id": "d1", "document_name": "pools.md", "page": None}


async def readers(database_url: str) -> int:
    return await admin_fetch(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2",
        database_url.rsplit("/", 1)[1],
        READER_NAME,
    )


async def test_a_blog_reads_as_the_orm_loads_it(app, client):
    user = await make_user(client)
    user_id = (await user.get("/api/v1/auth/me")).json()["id"]
    now = utcnow()
    row = Blog(
        user_id=user_id,
        title="Tide pools",
        status="ready",
        engine="extractive",
        markdown="# Tide pools\n\nAnemones close at low tide [1].",
        citations=[{**CITATION, "quote": "Anemones close"}],
        outline={"title": "Tide pools", "sections": [{"heading": "Anemones"}]},
        warnings=["short"],
        created_at=now,
        updated_at=now,
    )
    async with app.state.db() as db:
        db.add(row)
        await db.commit()
    read = await blog(app.state.reads, user_id, row.id)
    assert read["citations"] == [{**CITATION, "quote": "Anemones close"}]
    assert read["outline"]["sections"] == [{"heading": "Anemones"}]
    assert read["warnings"] == ["short"] and read["grounding"] is None
    assert read["created_at"] == now and read["created_at"].utcoffset().total_seconds() == 0
    assert (await user.get(f"/api/v1/blogs/{row.id}")).json()["citations"][0]["n"] == 1


async def test_a_statement_with_its_own_literals_and_a_datetime_parameter(app):
    """The statement's literals are bound too; a datetime goes in as the column stores it
    (SQLite: text) and comes back as an aware UTC datetime."""
    at = bindparam("at", type_=Blog.created_at.type)
    statement = select(literal("kept").label("word"), at.label("at"))
    now = utcnow()
    assert await app.state.reads.first(statement, {"at": now}) == {"word": "kept", "at": now}


async def test_postgres_reads_use_at_most_a_pool_of_connections(postgres_url):
    reads = reads_for(postgres_url)
    try:
        rows = await asyncio.gather(
            *(reads.first(BACKEND, {"seconds": 0.2}) for _ in range(POOL_SIZE * 2))
        )
        assert len({row["pid"] for row in rows}) == POOL_SIZE
        assert await readers(postgres_url) == POOL_SIZE
    finally:
        await reads.dispose()


async def test_an_interrupted_read_closes_its_connection(postgres_url):
    reads = reads_for(postgres_url)
    try:
        first = (await reads.first(BACKEND, {"seconds": 0}))["pid"]
        with pytest.raises(TimeoutError):  # a client that went away, mid-statement
            await asyncio.wait_for(reads.all(BACKEND, {"seconds": 1}), 0.2)
        assert (await reads.first(BACKEND, {"seconds": 0}))["pid"] != first
    finally:
        await reads.dispose()


async def test_a_restart_answers_unavailable_and_the_reads_after_it_reconnect(postgres_url):
    """What a server restart does to every connection: the read in flight answers 503, the
    idle connections (dead too) are not used again."""
    reads = reads_for(postgres_url)
    try:
        rows = await asyncio.gather(*(reads.first(BACKEND, {"seconds": 0.1}) for _ in range(3)))
        idle = {row["pid"] for row in rows}
        assert len(idle) == 3
        in_flight = asyncio.create_task(reads.first(BACKEND, {"seconds": 5}))
        await asyncio.sleep(0.3)
        await terminate_backends(postgres_url, READER_NAME)
        with pytest.raises(DatabaseUnavailable):
            await in_flight
        assert (await reads.first(BACKEND, {"seconds": 0}))["pid"] not in idle
    finally:
        await reads.dispose()


async def test_an_unreachable_server_is_unavailable_not_a_bug(postgres_url):
    reads = reads_for(postgres_url.replace(":5432/", ":1/"))
    try:
        with pytest.raises(DatabaseUnavailable):
            await reads.all(BACKEND, {"seconds": 0})
    finally:
        await reads.dispose()


async def test_sqlalchemy_only_url_options_stay_out_of_the_connection(postgres_url):
    reads = reads_for(postgres_url + "?prepared_statement_cache_size=0")
    try:
        assert (await reads.first(BACKEND, {"seconds": 0}))["pid"] > 0
    finally:
        await reads.dispose()


def reads_for(url: str) -> Reads:
    from draftsmith.db import RECYCLE_S, create_engine

    return Reads(create_engine(url), POOL_SIZE, RECYCLE_S)


async def test_a_locked_sqlite_file_is_unavailable_not_a_bug(tmp_path, monkeypatch):
    """A writer holding the lock past the read's wait answers 503, not 500."""
    import sqlite3

    from sqlalchemy import column, table

    from draftsmith import reads as reads_module

    monkeypatch.setattr(reads_module, "SQLITE_READ_BUSY_MS", 50)
    path = tmp_path / "locked.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE t (x INTEGER)")  # a rollback journal: readers wait
    reads = reads_for(f"sqlite+aiosqlite:///{path}")
    try:
        writer.execute("BEGIN EXCLUSIVE")
        with pytest.raises(DatabaseUnavailable):
            await reads.all(select(column("x")).select_from(table("t")), {})
        writer.execute("ROLLBACK")
        assert await reads.all(select(column("x")).select_from(table("t")), {}) == []
    finally:
        writer.close()
        await reads.dispose()
