"""replenishment suggestions: the case pack and supplier a decision ordered by

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: suggestions decided before this revision fall back to the item's values.
    with op.batch_alter_table("replenishment_suggestions") as batch:
        batch.add_column(sa.Column("case_pack", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("supplier", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replenishment_suggestions") as batch:
        batch.drop_column("supplier")
        batch.drop_column("case_pack")
