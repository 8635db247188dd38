"""sales_by_day and returns_by_sale_day: units sold and returned per item and sale day, kept
by the writers of the lines and summed by the returns analytics; filled from the lines stored

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"  # written as 0018 after 0017; chained after main's 0020 at the merge
branch_labels = None
depends_on = None

# The lines stored so far, set-based, in key order (a window reads its days together).
FILL_SALES = """
    INSERT INTO sales_by_day (sold_on, item_id, units)
    SELECT sold_on, item_id, sum(quantity) FROM sales_lines
    GROUP BY sold_on, item_id ORDER BY sold_on, item_id"""
FILL_RETURNS = """
    INSERT INTO returns_by_sale_day (sold_on, item_id, reason, units)
    SELECT sold_on, item_id, reason, sum(units) FROM (
        SELECT s.sold_on AS sold_on, s.item_id AS item_id, l.reason AS reason, 1 AS units
        FROM return_units u
        JOIN return_lines l ON l.id = u.return_line_id
        JOIN sales_lines s ON s.id = l.sales_line_id
        UNION ALL
        SELECT coalesce(sold_on, returned_on), item_id, reason, quantity
        FROM imported_returns) AS back
    GROUP BY sold_on, item_id, reason ORDER BY sold_on, item_id, reason"""


def upgrade() -> None:
    # No foreign key on item_id: the lines summed carry checked ones (summary_tables.py).
    op.create_table(
        "sales_by_day",
        sa.Column("sold_on", sa.Date(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sold_on", "item_id", name="pk_sales_by_day"),
    )
    op.create_table(
        "returns_by_sale_day",
        sa.Column("sold_on", sa.Date(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("sold_on", "item_id", "reason", name="pk_returns_by_sale_day"),
    )
    # A returns import adds to the summary the lines it inserted, found by their batch (the
    # sales import adds its own as it inserts them: repositories/day_summary.insert_sales).
    op.create_index("ix_imported_returns_batch_id", "imported_returns", ["batch_id"])
    op.execute(FILL_SALES)
    op.execute(FILL_RETURNS)
    if op.get_bind().dialect.name == "postgresql":  # plan the first reads on real figures
        op.execute("ANALYZE sales_by_day")
        op.execute("ANALYZE returns_by_sale_day")


def downgrade() -> None:
    op.drop_index("ix_imported_returns_batch_id", table_name="imported_returns")
    op.drop_table("returns_by_sale_day")
    op.drop_table("sales_by_day")
