"""Migration 0008 rebuilds the full-text index of the chunks already stored (stemmed, with
their headings) and goes back down to the unstemmed text-only index, on both databases."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.db import create_engine
from draftsmith.documents import search
from draftsmith.migrate import alembic_config
from tests.conftest import admin, run_sync

CHUNK = "Barn owls hunted the voles that lived in the meadow."


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"draftsmith_migrate_{uuid.uuid4().hex[:8]}"
    try:
        run_sync(admin, f'CREATE DATABASE "{name}"')
    except OSError as exc:
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    postgres = request.getfixturevalue("postgres_url")
    yield postgres.rsplit("/", 1)[0] + f"/{name}"
    run_sync(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _seed(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) "
                "VALUES ('u1', 'a@example.com', 'x', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO documents (id, user_id, filename, content_type, kind, size_bytes, "
                "sha256, storage_key, status, attempts, created_at, chunk_count, word_count) "
                "VALUES ('d1', 'u1', 'owls.md', 'text/markdown', 'markdown', 1, 'x', 'k', "
                "'ready', 0, CURRENT_TIMESTAMP, 1, 10)"
            )
        )
        await connection.execute(
            text(
                'INSERT INTO chunks (document_id, user_id, ordinal, text, heading, start, "end", '
                "word_count) VALUES ('d1', 'u1', 0, :text, 'Nocturnal predators', 0, 10, 10)"
            ),
            {"text": CHUNK},
        )
    await engine.dispose()


async def _found(url: str, query: str) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            db = AsyncSession(bind=connection)
            return bool(await search.retrieve(db, "u1", query, None, k=3))
    finally:
        await engine.dispose()


def test_0008_reindexes_existing_chunks_and_goes_down(fresh_url):
    config = alembic_config(fresh_url)
    command.upgrade(config, "0006")
    asyncio.run(_seed(fresh_url))
    command.upgrade(config, "0008")
    assert asyncio.run(_found(fresh_url, "hunting owl"))  # stemmed: hunted, owls
    assert asyncio.run(_found(fresh_url, "predator"))  # the heading is indexed
    command.downgrade(config, "0006")
    command.upgrade(config, "0008")  # down and up again: the index is rebuilt once more
    assert asyncio.run(_found(fresh_url, "predators hunt"))
