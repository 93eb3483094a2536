"""fair use: when a job row was last claimed; documents found by owner and hash

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

import draftsmith.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("documents", "blogs"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("claimed_at", draftsmith.db.UTCDateTime(timezone=True), nullable=True)
            )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_user_sha256", ["user_id", "sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_user_sha256")
    for table in ("blogs", "documents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("claimed_at")
