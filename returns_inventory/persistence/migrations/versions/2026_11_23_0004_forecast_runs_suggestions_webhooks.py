"""forecast runs suggestions webhooks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:19:46.661983
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forecast_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("executor", sa.String(length=16), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("series_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("suggestion_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("fallback_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failure_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_runs")),
    )
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forecast_runs_as_of"), ["as_of"], unique=False)
        batch_op.create_index(batch_op.f("ix_forecast_runs_status"), ["status"], unique=False)

    op.create_table(
        "webhook_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "last_event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_cursor")),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("secret", sa.String(length=255), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="1", nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "replenishment_suggestions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("suggested_qty", sa.Integer(), nullable=False),
        sa.Column("return_blind_qty", sa.Integer(), nullable=False),
        sa.Column("approved_qty", sa.Integer(), nullable=True),
        sa.Column("previous_qty", sa.Integer(), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("value", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_replenishment_suggestions_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_replenishment_suggestions_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["forecast_runs.id"],
            name=op.f("fk_replenishment_suggestions_run_id_forecast_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replenishment_suggestions")),
    )
    with op.batch_alter_table("replenishment_suggestions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_replenishment_suggestions_as_of_replenishment_suggestions_status"),
            ["as_of", "status"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f(
                "ix_replenishment_suggestions_item_id_replenishment_suggestions_location_id"
            ),
            ["item_id", "location_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_replenishment_suggestions_run_id_replenishment_suggestions_status"),
            ["run_id", "status"],
            unique=False,
        )

    op.create_table(
        "series_forecasts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("origin_week", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("why", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("demand_class", sa.String(length=16), nullable=False),
        sa.Column("forecast", sa.JSON(), nullable=False),
        sa.Column("lower", sa.JSON(), nullable=False),
        sa.Column("upper", sa.JSON(), nullable=False),
        sa.Column("interval_level", sa.Float(), nullable=False),
        sa.Column("return_rate", sa.Float(), nullable=False),
        sa.Column("restockable_share", sa.Float(), nullable=False),
        sa.Column("lag_median_weeks", sa.Float(), nullable=False),
        sa.Column("expected_returns", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_series_forecasts_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["forecast_runs.id"],
            name=op.f("fk_series_forecasts_run_id_forecast_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series_forecasts")),
        sa.UniqueConstraint("run_id", "item_id", name=op.f("uq_series_forecasts_run_id_item_id")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outbox_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_outbox_events"),
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("delivery_id", name=op.f("uq_webhook_deliveries_delivery_id")),
        sa.UniqueConstraint(
            "webhook_id", "event_id", name=op.f("uq_webhook_deliveries_webhook_id_event_id")
        ),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_status_webhook_deliveries_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "suggestion_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "suggestion_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["replenishment_suggestions.id"],
            name=op.f("fk_suggestion_decisions_suggestion_id_replenishment_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_decisions")),
    )
    with op.batch_alter_table("suggestion_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suggestion_decisions_suggestion_id"), ["suggestion_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("suggestion_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suggestion_decisions_suggestion_id"))

    op.drop_table("suggestion_decisions")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_webhook_deliveries_status_webhook_deliveries_next_attempt_at")
        )

    op.drop_table("webhook_deliveries")
    op.drop_table("series_forecasts")
    with op.batch_alter_table("replenishment_suggestions", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_replenishment_suggestions_run_id_replenishment_suggestions_status")
        )
        batch_op.drop_index(
            batch_op.f("ix_replenishment_suggestions_item_id_replenishment_suggestions_location_id")
        )
        batch_op.drop_index(
            batch_op.f("ix_replenishment_suggestions_as_of_replenishment_suggestions_status")
        )

    op.drop_table("replenishment_suggestions")
    op.drop_table("webhooks")
    op.drop_table("webhook_cursor")
    with op.batch_alter_table("forecast_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_forecast_runs_status"))
        batch_op.drop_index(batch_op.f("ix_forecast_runs_as_of"))

    op.drop_table("forecast_runs")
