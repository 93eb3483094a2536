"""blog text uncompressed: PostgreSQL keeps a blog's Markdown, HTML and citations out of line
but not compressed

Every read of a blog sent them whole, and PostgreSQL decompressed them (pglz) on each one:
about 0.2 ms of the database's CPU per read of a 2,000-word post, on a machine it shares with
the app. A post is read far more often than it is written, and kept uncompressed it takes
about 40 KB instead of 12. Values stored before keep their compression until they are
next written. SQLite has no such setting.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = ("markdown", "html", "citations")


def _storage(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    changes = ", ".join(f"ALTER COLUMN {column} SET STORAGE {kind}" for column in COLUMNS)
    op.execute(f"ALTER TABLE blogs {changes}")


def upgrade() -> None:
    _storage("EXTERNAL")


def downgrade() -> None:
    _storage("EXTENDED")
