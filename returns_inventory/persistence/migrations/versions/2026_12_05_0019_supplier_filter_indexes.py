"""indexes the planners' filter by supplier reads: the items of a supplier, and a run's
decided rows by the supplier they were ordered from

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-05 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The filter matched coalesce(the decision's supplier, the item's) with no index to start
    # from: it hashed every item against the run. Now each side has its own index: the
    # items of the supplier (then each one's row of the run, by (run_id, item_id)), and
    # the decided rows that kept it. Undecided rows carry no supplier: left out of the index.
    # With the id, an index-only scan: the items of one supplier are spread over the whole
    # table, and PostgreSQL preferred reading all of it to fetching them page by page.
    op.create_index("ix_items_supplier_id", "items", ["supplier", "id"])
    kept = sa.text("supplier IS NOT NULL")
    op.create_index("ix_replenishment_suggestions_run_id_supplier",
                    "replenishment_suggestions", ["run_id", "supplier", "id"],
                    postgresql_where=kept, sqlite_where=kept)


def downgrade() -> None:
    op.drop_index("ix_replenishment_suggestions_run_id_supplier",
                  table_name="replenishment_suggestions")
    op.drop_index("ix_items_supplier_id", table_name="items")
