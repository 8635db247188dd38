"""webhooks: a fan-out cursor per endpoint, so each hears only events after it started

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("last_event_id", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("since_snapshot", sa.Text(), nullable=True))
    # Endpoints already registered carry on from where the one shared cursor had got to.
    # webhook_cursor stays (unread) so code from before this revision still runs meanwhile.
    op.execute(
        "UPDATE webhooks SET last_event_id = COALESCE("
        "(SELECT last_event_id FROM webhook_cursor WHERE id = 1), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("since_snapshot")
        batch.drop_column("last_event_id")
