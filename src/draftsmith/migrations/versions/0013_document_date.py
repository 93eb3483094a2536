"""document date: each document keeps the publication date found in its metadata

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


# Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch operation recreates
# ``documents``, and SQLite refused that downgrade with "database table is locked".


def upgrade() -> None:
    op.add_column("documents", sa.Column("source_date", sa.String(length=10), nullable=True))


def downgrade() -> None:
    op.drop_column("documents", "source_date")
