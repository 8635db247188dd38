"""forecast runs: a heartbeat and the process running them; discarding a run

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: runs recorded before this revision never beat; a reaper reads their start.
    with op.batch_alter_table("forecast_runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("runner", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("discarded_by", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forecast_runs") as batch:
        batch.drop_column("discarded_by")
        batch.drop_column("discarded_at")
        batch.drop_column("runner")
        batch.drop_column("heartbeat_at")
