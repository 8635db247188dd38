"""imported_returns: the ERP's return history, one row per returned sales line; webhooks
may ask for their events in order

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"  # written as 0011 after 0010; chained after main's 0014 at the merge
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "imported_returns",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("return_ref", sa.String(64), nullable=False),
        sa.Column("return_line_ref", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("sales_line_id", sa.BigInteger(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("sold_on", sa.Date(), nullable=True),
        sa.Column("customer", sa.String(64), nullable=True),
        sa.Column("returned_on", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("erp_reason", sa.String(64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("grade", sa.String(1), nullable=True),
        sa.Column("disposition", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batches.id"],
                                name="fk_imported_returns_batch_id_import_batches"),
        sa.ForeignKeyConstraint(["sales_line_id"], ["sales_lines.id"],
                                name="fk_imported_returns_sales_line_id_sales_lines"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"],
                                name="fk_imported_returns_item_id_items"),
        sa.PrimaryKeyConstraint("id", name="pk_imported_returns"),
        sa.UniqueConstraint("return_ref", "return_line_ref",
                            name="uq_imported_returns_return_ref_return_line_ref"),
    )
    op.create_index("ix_imported_returns_item_id_imported_returns_sold_on", "imported_returns",
                    ["item_id", "sold_on"])
    op.create_index("ix_imported_returns_sales_line_id", "imported_returns", ["sales_line_id"])
    # Off for endpoints registered before: they were sent in no particular order.
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("ordered", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("ordered")
    op.drop_index("ix_imported_returns_sales_line_id", table_name="imported_returns")
    op.drop_index("ix_imported_returns_item_id_imported_returns_sold_on", table_name="imported_returns")
    op.drop_table("imported_returns")
