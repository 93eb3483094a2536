"""outline review: what a queued blog job does, and section rewrites as jobs of their own

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

import draftsmith.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_mode", sa.String(length=10), nullable=True))

    op.create_table(
        "section_rewrites",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("blog_id", sa.String(length=36), nullable=False),
        sa.Column("section", sa.Integer(), nullable=False),
        sa.Column("base_revision", sa.Integer(), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", draftsmith.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", draftsmith.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("enqueued_at", draftsmith.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_expires_at", draftsmith.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("run_after", draftsmith.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", draftsmith.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["blog_id"],
            ["blogs.id"],
            name=op.f("fk_section_rewrites_blog_id_blogs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_section_rewrites_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_section_rewrites")),
    )
    with op.batch_alter_table("section_rewrites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_section_rewrites_blog_id"), ["blog_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_section_rewrites_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("section_rewrites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_section_rewrites_status"))
        batch_op.drop_index(batch_op.f("ix_section_rewrites_blog_id"))
    op.drop_table("section_rewrites")
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.drop_column("job_mode")
