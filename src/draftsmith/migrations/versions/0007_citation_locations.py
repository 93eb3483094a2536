"""citation locations: each chunk's printed page label and heading path

Chunks of documents processed before this revision get the page number as
their label and their heading as their section path (the best the stored
rows know); documents processed from now on store the PDF's page labels and
the full heading path.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN (no batch): SQLite keeps the table, so its FTS triggers stay
    op.add_column("chunks", sa.Column("page_label", sa.String(length=40), nullable=True))
    op.add_column("chunks", sa.Column("section", sa.Text(), nullable=True))
    op.execute(
        "UPDATE chunks SET page_label = CAST(page AS VARCHAR(40)), section = heading "
        "WHERE page IS NOT NULL OR heading IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_column("chunks", "section")
    op.drop_column("chunks", "page_label")
