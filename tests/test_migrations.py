"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command

from draftsmith.migrate import alembic_config, head_revision


def test_models_and_migrations_agree(database_url):
    command.check(alembic_config(database_url))  # raises when autogenerate would change anything


async def test_database_is_at_head(app):
    from draftsmith.migrate import current_revision

    assert await current_revision(app.state.engine) == head_revision()


def test_citation_locations_backfill_chunks_processed_before(tmp_path):
    """0007: chunks stored earlier get their page number as label and heading as section
    (SQLite here; PostgreSQL runs the same statement when its test database is built)."""
    import sqlite3

    path = tmp_path / "old.db"
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, "0006")
    with sqlite3.connect(path) as db:
        now = "2026-01-01 00:00:00"
        db.execute(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) "
            "VALUES ('u', 'u@example.org', 'x', ?, ?)",
            (now, now),
        )
        db.execute(
            "INSERT INTO documents (id, user_id, filename, content_type, kind, size_bytes, sha256, "
            "storage_key, created_at, status, attempts) "
            "VALUES ('d', 'u', 'a.txt', 'text/plain', 'text', 1, 'x', 'k', ?, 'ready', 0)",
            (now,),
        )
        db.executemany(
            'INSERT INTO chunks (document_id, user_id, ordinal, text, page, heading, start, "end", '
            "word_count) VALUES ('d', 'u', ?, 'text', ?, ?, 0, 4, 1)",
            [(0, 3, "Install"), (1, None, "Usage"), (2, None, None)],
        )
    command.upgrade(config, "head")
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT page_label, section FROM chunks ORDER BY ordinal").fetchall()
        assert db.execute(
            "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'text'"
        ).fetchone() == (3,)
    assert rows == [("3", "Install"), (None, "Usage"), (None, None)]
    command.downgrade(config, "0006")


async def test_postgres_keeps_blog_text_uncompressed(postgres_url):
    """A blog is read whole far more often than written: no decompression per read."""
    import asyncpg

    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        storage = await connection.fetchval(
            "SELECT string_agg(attname || '=' || attstorage::text, ',' ORDER BY attname)"
            " FROM pg_attribute WHERE attrelid = 'blogs'::regclass"
            " AND attname IN ('markdown', 'html', 'citations')"
        )
    finally:
        await connection.close()
    assert storage == "citations=e,html=e,markdown=e"
