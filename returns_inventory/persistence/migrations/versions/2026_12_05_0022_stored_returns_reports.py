"""returns_reports and returns_report_skus: returns analytics reports stored whole, a row
per SKU, so a page reads its own rows (persistence/report_tables.py)

Revision ID: 0022
Revises: 0024
Create Date: 2026-12-05 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0024"  # written after 0021; chained after main's 0024 at the merge
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty: the scheduler's returns-reports job, or the first read of a window, fills them.
    op.create_table(
        "returns_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("family", sa.String(512), nullable=False),
        sa.Column("policy_key", sa.String(64), nullable=False),
        sa.Column("stamp", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compute_ms", sa.Integer(), nullable=False),
        sa.Column("header", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_returns_reports"),
        sa.UniqueConstraint("since", "until", "family", "policy_key",
                            name="uq_returns_reports_since_until_family_policy_key"),
    )
    op.create_table(
        "returns_report_skus",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("heat_rank", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["returns_reports.id"], ondelete="CASCADE",
                                name="fk_returns_report_skus_report_id_returns_reports"),
        sa.PrimaryKeyConstraint("report_id", "position", name="pk_returns_report_skus"),
    )
    op.create_index("ix_returns_report_skus_report_id_heat_rank", "returns_report_skus",
                    ["report_id", "heat_rank"])
    op.create_index("ix_returns_report_skus_report_id_sku", "returns_report_skus",
                    ["report_id", "sku"])


def downgrade() -> None:
    op.drop_table("returns_report_skus")
    op.drop_table("returns_reports")
