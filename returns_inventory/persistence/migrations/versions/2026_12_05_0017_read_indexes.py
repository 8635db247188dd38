"""indexes the planners' and the ERP's reads walk: a run's suggestions in id and in value
order and by item, the event feed of one type in id order, the items by lower-case SKU and
description (the planners' search)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 09:00:00
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A list of one run, in id order or by value (the planners' default), reads its first
    # page from the index instead of walking every kept run's rows.
    op.create_index("ix_replenishment_suggestions_run_id_id", "replenishment_suggestions",
                    ["run_id", "id"])
    op.create_index("ix_replenishment_suggestions_run_id_value", "replenishment_suggestions",
                    ["run_id", "value", "id"])
    # A search or a filter on the items finds the items first, then each one's row of the
    # run: by (item_id, location_id) that was every kept run's row of the item.
    op.create_index("ix_replenishment_suggestions_run_id_item_id",
                    "replenishment_suggestions", ["run_id", "item_id"])
    # The feed of one type, past a cursor, in id order: the type alone made a rare type's
    # page sort every event of it.
    op.create_index("ix_outbox_events_event_type_id", "outbox_events", ["event_type", "id"])
    op.drop_index("ix_outbox_events_event_type", table_name="outbox_events")
    # The planners' search (SKU or description starting with the text, any case): a prefix
    # range on PostgreSQL, and the statistics that tell it a search matches one item in
    # seven, not one in two hundred (it joined 14,000 items to the run instead of walking
    # the run's first 700 rows).
    # The filter by category: its items, then each one's row of the run.
    op.create_index("ix_items_category", "items", ["category"])
    ops = " varchar_pattern_ops" if op.get_bind().dialect.name == "postgresql" else ""
    for column in ("sku", "description"):
        op.execute(f"CREATE INDEX ix_items_lower_{column} ON items (lower({column}){ops})")


def downgrade() -> None:
    op.drop_index("ix_items_category", table_name="items")
    op.drop_index("ix_items_lower_description", table_name="items")
    op.drop_index("ix_items_lower_sku", table_name="items")
    op.create_index("ix_outbox_events_event_type", "outbox_events", ["event_type"])
    op.drop_index("ix_outbox_events_event_type_id", table_name="outbox_events")
    op.drop_index("ix_replenishment_suggestions_run_id_item_id",
                  table_name="replenishment_suggestions")
    op.drop_index("ix_replenishment_suggestions_run_id_value",
                  table_name="replenishment_suggestions")
    op.drop_index("ix_replenishment_suggestions_run_id_id",
                  table_name="replenishment_suggestions")
