"""return lines by item, return units by line: the returns analytics read one page of SKUs
from their return lines rather than from every sales line of the page's items; items by
change time: kept analytics ask for the newest change on every read

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 09:00:00
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_return_lines_item_id", "return_lines", ["item_id"])
    op.create_index("ix_return_units_return_line_id", "return_units", ["return_line_id"])
    op.create_index("ix_items_updated_at", "items", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_items_updated_at", table_name="items")
    op.drop_index("ix_return_units_return_line_id", table_name="return_units")
    op.drop_index("ix_return_lines_item_id", table_name="return_lines")
