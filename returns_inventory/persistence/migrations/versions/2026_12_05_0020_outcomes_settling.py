"""inspection outcomes a grade leaves for the settlement step: the line's refund and the
customer's answer are settled after the grade's transaction, many returns at a time

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every outcome recorded so far was settled in its grade's transaction.
    with op.batch_alter_table("inspection_outcomes") as batch:
        batch.add_column(sa.Column("settling", sa.Boolean(), nullable=False, server_default="0"))
    # The settlement step's queue: the few outcomes still settling, oldest first.
    op.create_index("ix_inspection_outcomes_settling", "inspection_outcomes", ["settling", "id"])


def downgrade() -> None:
    op.drop_index("ix_inspection_outcomes_settling", table_name="inspection_outcomes")
    with op.batch_alter_table("inspection_outcomes") as batch:
        batch.drop_column("settling")
