"""coverage: a session's topic coverage, and whether it may be written from thin sources

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("generation_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_thin_sources", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("coverage", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("generation_sessions", schema=None) as batch_op:
        batch_op.drop_column("coverage")
        batch_op.drop_column("allow_thin_sources")
