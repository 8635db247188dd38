"""returns units gradings write-offs exchanges

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:13:24.895413
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rma", sa.String(length=32), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("sold_channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("gift", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("shipping_paid_by", sa.String(length=16), nullable=False),
        sa.Column("rejection_rule", sa.String(length=32), nullable=True),
        sa.Column("rejection_detail", sa.String(length=255), nullable=True),
        sa.Column("customer_note", sa.Text(), nullable=True),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("rma", name=op.f("uq_returns_rma")),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_returns_order_ref"), ["order_ref"], unique=False)

    op.create_table(
        "return_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column(
            "sales_line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=False),
        sa.Column("exchange_item_id", sa.Integer(), nullable=True),
        sa.Column("condition_met", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exchange_item_id"], ["items.id"], name=op.f("fk_return_lines_exchange_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_return_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_return_lines_return_id_returns")
        ),
        sa.ForeignKeyConstraint(
            ["sales_line_id"],
            ["sales_lines.id"],
            name=op.f("fk_return_lines_sales_line_id_sales_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_lines")),
        sa.UniqueConstraint("return_id", "line_no", name=op.f("uq_return_lines_return_id_line_no")),
    )
    with op.batch_alter_table("return_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_return_lines_sales_line_id"), ["sales_line_id"], unique=False
        )

    op.create_table(
        "exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("return_line_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_exchanges_item_id_items")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_exchanges_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_exchanges_return_id_returns")
        ),
        sa.ForeignKeyConstraint(
            ["return_line_id"],
            ["return_lines.id"],
            name=op.f("fk_exchanges_return_line_id_return_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchanges")),
    )
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchanges_status_exchanges_expires_at"),
            ["status", "expires_at"],
            unique=False,
        )

    op.create_table(
        "return_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("return_line_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("condition", sa.String(length=16), nullable=True),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("disposition", sa.String(length=32), nullable=True),
        sa.Column("defects", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("blind", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("flagged_for_review", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=128), nullable=False),
        sa.Column("graded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("graded_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_return_units_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_return_units_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.id"], name=op.f("fk_return_units_return_id_returns")
        ),
        sa.ForeignKeyConstraint(
            ["return_line_id"],
            ["return_lines.id"],
            name=op.f("fk_return_units_return_line_id_return_lines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_units")),
        sa.UniqueConstraint("unit_code", name=op.f("uq_return_units_unit_code")),
    )
    with op.batch_alter_table("return_units", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_return_units_item_id_return_units_status"),
            ["item_id", "status"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_return_units_return_id"), ["return_id"], unique=False)

    op.create_table(
        "unit_gradings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("defects", sa.JSON(), nullable=False),
        sa.Column("disposition", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["return_units.id"], name=op.f("fk_unit_gradings_unit_id_return_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_gradings")),
        sa.UniqueConstraint("unit_id", "sequence", name=op.f("uq_unit_gradings_unit_id_sequence")),
    )
    op.create_table(
        "unit_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["return_units.id"], name=op.f("fk_unit_photos_unit_id_return_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_photos")),
        sa.UniqueConstraint("filename", name=op.f("uq_unit_photos_filename")),
    )
    with op.batch_alter_table("unit_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_photos_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "write_offs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_write_offs_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_write_offs_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["return_units.id"], name=op.f("fk_write_offs_unit_id_return_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_offs")),
    )
    with op.batch_alter_table("write_offs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_write_offs_posted_at"), ["posted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_write_offs_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("write_offs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_write_offs_status"))
        batch_op.drop_index(batch_op.f("ix_write_offs_posted_at"))

    op.drop_table("write_offs")
    with op.batch_alter_table("unit_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_photos_unit_id"))

    op.drop_table("unit_photos")
    op.drop_table("unit_gradings")
    with op.batch_alter_table("return_units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_units_return_id"))
        batch_op.drop_index(batch_op.f("ix_return_units_item_id_return_units_status"))

    op.drop_table("return_units")
    with op.batch_alter_table("exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchanges_status_exchanges_expires_at"))

    op.drop_table("exchanges")
    with op.batch_alter_table("return_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_lines_sales_line_id"))

    op.drop_table("return_lines")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_order_ref"))

    op.drop_table("returns")
