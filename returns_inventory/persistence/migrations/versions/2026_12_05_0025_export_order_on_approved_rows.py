"""replenishment suggestions: an approved line's place in the export (supplier, location, SKU,
size) and its cases, kept on the row with an index per run, so an export page reads its own
lines and its orders' sums from one index range instead of sorting the whole plan

Revision ID: 0025
Revises: 0022
Create Date: 2026-12-05 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None

COLUMNS = [("export_supplier", sa.String(64)), ("export_location", sa.String(32)),
           ("export_sku", sa.String(64)), ("export_size", sa.String(32)),
           ("export_cases", sa.Integer())]
EXPORT_ORDER = ["run_id", "export_supplier", "export_location", "export_sku", "export_size",
                "id"]
# What a page line and an order's sums read besides the key (PostgreSQL only: SQLite has no
# INCLUDE).
EXPORTED = ["item_id", "supplier", "case_pack", "approved_qty", "unit_cost", "export_cases",
            "exported_at"]

# The values the export showed until now, read from the item and location as they are: the
# supplier and case pack the decision kept, else the item's; whole cases per line.
PACK = "COALESCE(s.case_pack, i.case_pack, 1)"
FILL_POSTGRES = f"""
    UPDATE replenishment_suggestions AS s
    SET export_supplier = COALESCE(s.supplier, i.supplier, ''), export_location = l.code,
        export_sku = i.sku, export_size = i.size,
        export_cases = (s.approved_qty + (CASE WHEN {PACK} > 1 THEN {PACK} ELSE 1 END) - 1)
                       / (CASE WHEN {PACK} > 1 THEN {PACK} ELSE 1 END)
    FROM items AS i, locations AS l
    WHERE s.status = 'approved' AND i.id = s.item_id AND l.id = s.location_id
"""
ITEM = "(SELECT {} FROM items AS i WHERE i.id = replenishment_suggestions.item_id)"
SQLITE_PACK = ITEM.format("CASE WHEN COALESCE(replenishment_suggestions.case_pack, i.case_pack,"
                          " 1) > 1 THEN COALESCE(replenishment_suggestions.case_pack,"
                          " i.case_pack) ELSE 1 END")
FILL_SQLITE = f"""
    UPDATE replenishment_suggestions
    SET export_supplier = COALESCE(supplier, {ITEM.format("i.supplier")}, ''),
        export_location = (SELECT l.code FROM locations AS l
                           WHERE l.id = replenishment_suggestions.location_id),
        export_sku = {ITEM.format("i.sku")}, export_size = {ITEM.format("i.size")},
        export_cases = (approved_qty + {SQLITE_PACK} - 1) / {SQLITE_PACK}
    WHERE status = 'approved'
"""


def upgrade() -> None:
    with op.batch_alter_table("replenishment_suggestions") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    # Before the index: the approved rows are found by the (run_id, item_id) approved index.
    op.execute(FILL_POSTGRES if postgres else FILL_SQLITE)
    approved = sa.text("status = 'approved'")
    op.create_index("ix_replenishment_suggestions_export", "replenishment_suggestions",
                    EXPORT_ORDER, postgresql_include=EXPORTED,
                    postgresql_where=approved, sqlite_where=approved)


def downgrade() -> None:
    op.drop_index("ix_replenishment_suggestions_export", table_name="replenishment_suggestions")
    with op.batch_alter_table("replenishment_suggestions") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
