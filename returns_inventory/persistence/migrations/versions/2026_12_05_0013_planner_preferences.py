"""planner preferences (the suggestions table's columns per person) and the export stamp
that decides whether an approval may still be reopened

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 06:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planner_preferences",
        # Keyed by the actor string (`user:ann`), as decisions name people.
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", "name", name=op.f("pk_planner_preferences")),
    )
    # Nullable: rows decided before this revision were never known to be exported.
    with op.batch_alter_table("replenishment_suggestions") as batch:
        batch.add_column(sa.Column("exported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("replenishment_suggestions") as batch:
        batch.drop_column("exported_at")
    op.drop_table("planner_preferences")
