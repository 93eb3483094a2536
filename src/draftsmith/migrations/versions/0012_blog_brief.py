"""blog brief: each blog keeps the brief it was generated from

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("brief", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.drop_column("brief")
