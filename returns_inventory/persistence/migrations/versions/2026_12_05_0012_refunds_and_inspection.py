"""refunds, their deductions and inspection outcomes; refund terms on returns

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"  # after main's quality_and_claims, chained at the merge
branch_labels = None
depends_on = None


def _money(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Numeric(precision=12, scale=2), nullable=nullable)


def upgrade() -> None:
    # Returns authorized before this revision were refunded on receipt; they keep it.
    with op.batch_alter_table("returns") as batch:
        batch.add_column(sa.Column("refund_timing", sa.String(length=16),
                                   server_default="on_receipt", nullable=False))
        batch.add_column(sa.Column("refund_method", sa.String(length=24),
                                   server_default="original_payment", nullable=False))
        batch.add_column(sa.Column("refund_within_days", sa.Integer(), server_default="14",
                                   nullable=False))
        batch.add_column(sa.Column("address_ref", sa.String(length=128), nullable=True))
    with op.batch_alter_table("return_lines") as batch:
        batch.add_column(sa.Column("declared_condition", sa.JSON(), nullable=True))
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("return_line_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("timing", sa.String(length=16), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        _money("unit_price"),
        _money("goods"),
        _money("shipping_refund"),
        _money("total"),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("payment_ref", sa.String(length=128), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_by", sa.String(length=128), nullable=True),
        sa.Column("cancel_reason", sa.String(length=255), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["return_id"], ["returns.id"],
                                name=op.f("fk_refunds_return_id_returns")),
        sa.ForeignKeyConstraint(["return_line_id"], ["return_lines.id"],
                                name=op.f("fk_refunds_return_line_id_return_lines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds") as batch:
        batch.create_index(batch.f("ix_refunds_status_refunds_due_on"), ["status", "due_on"])
        batch.create_index(batch.f("ix_refunds_return_id"), ["return_id"])
    op.create_table(
        "refund_deductions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        _money("amount"),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"],
                                name=op.f("fk_refund_deductions_refund_id_refunds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_deductions")),
    )
    with op.batch_alter_table("refund_deductions") as batch:
        batch.create_index(batch.f("ix_refund_deductions_refund_id"), ["refund_id"])
    op.create_table(
        "inspection_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("return_line_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("deductions", sa.JSON(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        _money("unit_price"),
        _money("amount"),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["return_units.id"],
                                name=op.f("fk_inspection_outcomes_unit_id_return_units")),
        sa.ForeignKeyConstraint(["return_id"], ["returns.id"],
                                name=op.f("fk_inspection_outcomes_return_id_returns")),
        sa.ForeignKeyConstraint(
            ["return_line_id"], ["return_lines.id"],
            name=op.f("fk_inspection_outcomes_return_line_id_return_lines")),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.id"],
                                name=op.f("fk_inspection_outcomes_refund_id_refunds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_outcomes")),
        sa.UniqueConstraint("unit_id", "sequence",
                            name=op.f("uq_inspection_outcomes_unit_id_sequence")),
    )
    with op.batch_alter_table("inspection_outcomes") as batch:
        batch.create_index(batch.f("ix_inspection_outcomes_return_line_id"),
                           ["return_line_id"])
        batch.create_index(batch.f("ix_inspection_outcomes_return_id"), ["return_id"])


def downgrade() -> None:
    op.drop_table("inspection_outcomes")
    op.drop_table("refund_deductions")
    op.drop_table("refunds")
    with op.batch_alter_table("return_lines") as batch:
        batch.drop_column("declared_condition")
    with op.batch_alter_table("returns") as batch:
        for column in ("address_ref", "refund_within_days", "refund_method", "refund_timing"):
            batch.drop_column(column)
