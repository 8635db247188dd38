"""items: an optional launch date, so new items are forecast from their category's profile

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: items imported before this revision have no launch date; their first sale counts.
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("launched_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("launched_on")
