"""Alembic environment: runs migrations over the app's async engine."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from draftsmith.db import create_engine
from draftsmith.models import metadata

config = context.config


def _include(obj, name, type_, reflected, compare_to) -> bool:
    """Hide the full-text index objects that migrations manage by hand."""
    if type_ == "table" and name and name.startswith("chunks_fts"):
        return False
    return not (
        (type_ == "column" and name == "tsv") or (type_ == "index" and name == "ix_chunks_tsv")
    )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `draftsmith migrate`.")
asyncio.run(_main())
