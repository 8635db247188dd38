"""idempotency keys: the claim's fencing token and when its work was applied

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 05:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Both nullable: keys claimed before this revision simply have no fence.
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("applied_at")
        batch.drop_column("claim_token")
