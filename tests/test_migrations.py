"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command

from draftsmith.migrate import alembic_config, head_revision


def test_models_and_migrations_agree(database_url):
    command.check(alembic_config(database_url))  # raises when autogenerate would change anything


async def test_database_is_at_head(app):
    from draftsmith.migrate import current_revision

    assert await current_revision(app.state.engine) == head_revision()
