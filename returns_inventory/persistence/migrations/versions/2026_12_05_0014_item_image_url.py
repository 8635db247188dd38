"""items: an optional image_url, shown to the grader at the bench

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: most item masters have no picture; the bench then shows none.
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("image_url", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("image_url")
