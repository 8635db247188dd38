"""indexes the approved-orders export reads: a run's approved lines with what an export line
needs, read from the index alone on PostgreSQL

Revision ID: 0024
Revises: 0021
Create Date: 2026-12-05 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0021"
branch_labels = None
depends_on = None

# What an export line reads of its suggestion besides the key (PostgreSQL only: SQLite has no
# INCLUDE, and there the partial key alone finds the rows).
EXPORTED = ["id", "location_id", "supplier", "case_pack", "approved_qty", "unit_cost",
            "exported_at"]


def upgrade() -> None:
    # The export read a run's 4,000 approved rows from the heap twice (their items, then each
    # item's row of the run): at 100,000 suggestions a run that is every page of the run's
    # 5,000, 17 ms and 23 ms of its 128 ms. From this index alone: 0.6 ms and 5 ms.
    approved = sa.text("status = 'approved'")
    op.create_index("ix_replenishment_suggestions_approved", "replenishment_suggestions",
                    ["run_id", "item_id"], postgresql_include=EXPORTED,
                    postgresql_where=approved, sqlite_where=approved)


def downgrade() -> None:
    op.drop_index("ix_replenishment_suggestions_approved",
                  table_name="replenishment_suggestions")
