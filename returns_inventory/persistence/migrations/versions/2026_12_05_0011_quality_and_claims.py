"""items: factory, season and fabric; vendor claims and the units each claims for

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(12, 2)


def upgrade() -> None:
    # Nullable: the item master may not know them; scorecards group such items as "unknown".
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("factory", sa.String(64), nullable=True))
        batch.add_column(sa.Column("season", sa.String(32), nullable=True))
        batch.add_column(sa.Column("fabric", sa.String(64), nullable=True))
    op.create_table(
        "vendor_claims",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("supplier", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("value", MONEY, nullable=False, server_default="0"),
        sa.Column("credited_value", MONEY, nullable=True),
        sa.Column("erp_reference", sa.String(128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status in ('draft', 'sent', 'credited', 'rejected')",
            name=op.f("ck_vendor_claims_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_claims")),
    )
    op.create_index(op.f("ix_vendor_claims_supplier_vendor_claims_status"), "vendor_claims",
                    ["supplier", "status"])
    op.create_table(
        "vendor_claim_units",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("value", MONEY, nullable=False),
        sa.Column("sold_on", sa.Date(), nullable=True),
        sa.Column("window_ends_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["claim_id"], ["vendor_claims.id"],
                                name=op.f("fk_vendor_claim_units_claim_id_vendor_claims")),
        sa.ForeignKeyConstraint(["unit_id"], ["return_units.id"],
                                name=op.f("fk_vendor_claim_units_unit_id_return_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_claim_units")),
        # A unit is claimed once: gathering twice, or two planners at once, cannot bill it twice.
        sa.UniqueConstraint("unit_id", name=op.f("uq_vendor_claim_units_unit_id")),
    )
    op.create_index(op.f("ix_vendor_claim_units_claim_id"), "vendor_claim_units", ["claim_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_vendor_claim_units_claim_id"), table_name="vendor_claim_units")
    op.drop_table("vendor_claim_units")
    op.drop_index(op.f("ix_vendor_claims_supplier_vendor_claims_status"), table_name="vendor_claims")
    op.drop_table("vendor_claims")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("fabric")
        batch.drop_column("season")
        batch.drop_column("factory")
