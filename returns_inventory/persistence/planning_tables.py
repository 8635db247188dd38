"""Tables for the nightly run: forecasts, replenishment suggestions, decisions, webhooks."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .tables import BigId, Money, Timestamp, metadata

forecast_runs = Table(
    "forecast_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("as_of", Date, nullable=False),
    # requested (by the web, waiting for the scheduler), running, succeeded, failed
    Column("status", String(16), nullable=False),
    Column("executor", String(16), nullable=False),
    Column("workers", Integer, nullable=False),
    Column("trigger", String(16), nullable=False),  # schedule, cli, api
    Column("actor", String(128), nullable=False),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp),
    Column("series_count", Integer, nullable=False, server_default="0"),
    Column("suggestion_count", Integer, nullable=False, server_default="0"),
    Column("fallback_count", Integer, nullable=False, server_default="0"),
    Column("failure_count", Integer, nullable=False, server_default="0"),
    Column("figures", JSON, nullable=False),  # timings, methods chosen, fallbacks by kind
    Column("failures", JSON, nullable=False),  # [{unique_id, reason}] per failed series
    Column("error", Text),
    # A running run's process beats every few seconds; one that stopped beating was lost.
    Column("heartbeat_at", Timestamp),
    Column("runner", String(128)),  # host:pid of the process running it
    # A discarded run never becomes the default run again; its outcome stays recorded.
    Column("discarded_at", Timestamp),
    Column("discarded_by", String(128)),
    Index(None, "as_of"),
    Index(None, "status"),
)

series_forecasts = Table(
    "series_forecasts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("run_id", ForeignKey("forecast_runs.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("origin_week", Date, nullable=False),  # Monday of the first forecast week
    Column("method", String(32), nullable=False),
    Column("why", String(32), nullable=False),
    Column("level", String(32), nullable=False),
    Column("demand_class", String(16), nullable=False),
    Column("forecast", JSON, nullable=False),
    Column("lower", JSON, nullable=False),
    Column("upper", JSON, nullable=False),
    Column("interval_level", Float, nullable=False),
    Column("return_rate", Float, nullable=False),
    Column("restockable_share", Float, nullable=False),
    Column("lag_median_weeks", Float, nullable=False),
    Column("expected_returns", JSON, nullable=False),  # restockable units back per week
    Column("explanation", Text, nullable=False),
    UniqueConstraint("run_id", "item_id"),
)

replenishment_suggestions = Table(
    "replenishment_suggestions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("run_id", ForeignKey("forecast_runs.id", ondelete="CASCADE"), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    # proposed -> approved / rejected; a newer run supersedes undecided ones.
    Column("status", String(16), nullable=False),
    Column("suggested_qty", Integer, nullable=False),
    Column("return_blind_qty", Integer, nullable=False),
    Column("approved_qty", Integer),
    # What the approved or edited quantity was packed by and ordered from, as the decision's
    # event told the ERP; the export must not follow later changes to the item.
    Column("case_pack", Integer),
    Column("supplier", String(64)),
    Column("previous_qty", Integer),  # what the previous run suggested, for "change"
    Column("unit_cost", Money, nullable=False),
    Column("value", Money, nullable=False),
    Column("terms", JSON, nullable=False),  # every term of the order-up-to arithmetic
    Column("explanation", Text, nullable=False),
    # Optimistic concurrency: a decision names the version it saw.
    Column("version", Integer, nullable=False, server_default="1"),
    Column("decided_by", String(128)),
    Column("decided_at", Timestamp),
    Column("comment", Text),
    Column("created_at", Timestamp, nullable=False),
    # First served in the approved-orders export: from then on the ERP may have acted on it,
    # so the decision can no longer be reopened.
    Column("exported_at", Timestamp),
    # An approved line's place in the export and its share of the order's cases, written with
    # the approval (NULL otherwise): the export's order (supplier, location, SKU, size) and
    # its orders' sums then come from one index range of the run, not a sort of the plan.
    Column("export_supplier", String(64)),  # "" when ordered from no supplier
    Column("export_location", String(32)),
    Column("export_sku", String(64)),
    Column("export_size", String(32)),
    Column("export_cases", Integer),
    Index(None, "run_id", "status"),
    Index(None, "item_id", "location_id"),
    Index(None, "as_of", "status"),
    # A run's list in id order, and by value (the planners' default sort), page by page.
    Index("ix_replenishment_suggestions_run_id_id", "run_id", "id"),
    Index("ix_replenishment_suggestions_run_id_value", "run_id", "value", "id"),
    # A run's row of each item a search or an item filter found first.
    Index("ix_replenishment_suggestions_run_id_item_id", "run_id", "item_id",
          postgresql_include=["location_id", "status"]),  # a search's count, index-only
)
# A run's decided rows ordered from one supplier (the filter by supplier); undecided rows
# carry none, so only decided ones are indexed.
Index("ix_replenishment_suggestions_run_id_supplier", replenishment_suggestions.c.run_id,
      replenishment_suggestions.c.supplier, replenishment_suggestions.c.id,
      postgresql_where=replenishment_suggestions.c.supplier.isnot(None),
      sqlite_where=replenishment_suggestions.c.supplier.isnot(None))
# A run's approved lines with what the export reads of them (an index-only scan on PostgreSQL).
_APPROVED = replenishment_suggestions.c.status == "approved"
Index("ix_replenishment_suggestions_approved", replenishment_suggestions.c.run_id,
      replenishment_suggestions.c.item_id,
      postgresql_include=["id", "location_id", "supplier", "case_pack", "approved_qty",
                          "unit_cost", "exported_at"],
      postgresql_where=_APPROVED, sqlite_where=_APPROVED)
# A run's approved lines in the export's order, a page an index range; an order's sums are
# its stretch of the same index (PostgreSQL reads both from the index alone).
EXPORT_ORDER = ["run_id", "export_supplier", "export_location", "export_sku", "export_size",
                "id"]
Index("ix_replenishment_suggestions_export",
      *(replenishment_suggestions.c[name] for name in EXPORT_ORDER),
      postgresql_include=["item_id", "supplier", "case_pack", "approved_qty", "unit_cost",
                          "export_cases", "exported_at"],
      postgresql_where=_APPROVED, sqlite_where=_APPROVED)

suggestion_decisions = Table(
    "suggestion_decisions",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("suggestion_id", ForeignKey("replenishment_suggestions.id", ondelete="CASCADE"),
           nullable=False),
    Column("action", String(16), nullable=False),  # approve, reject, edit
    Column("quantity", Integer),
    Column("comment", Text),
    Column("from_version", Integer, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index(None, "suggestion_id"),
)

planner_preferences = Table(
    "planner_preferences",
    metadata,
    # Per person (the actor string decisions carry, `user:ann`): e.g. the table's columns.
    Column("actor", String(128), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String(1024), nullable=False),
    # The shared HMAC secret must be readable to sign; keep the database access tight.
    Column("secret", String(255), nullable=False),
    Column("event_types", JSON, nullable=False),  # [] means every event
    Column("active", Boolean, nullable=False, server_default="1"),
    # Events one at a time, in feed order: a later one waits while an earlier one is retried.
    Column("ordered", Boolean, nullable=False, server_default="0"),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # How far outbox events have been turned into deliveries for this endpoint: the feed's
    # position when it was registered (or switched on again), then moved by each fan-out.
    Column("last_event_id", BigId, nullable=False, server_default="0"),
    # No longer written (NULL): no event commits below a feed position, the cursor says it all.
    # Kept for endpoints registered before on PostgreSQL: which transactions had committed
    # at that moment; events past the cursor that had are not theirs (see events.py).
    Column("since_snapshot", Text),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("delivery_id", String(36), nullable=False, unique=True),
    Column("webhook_id", ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", ForeignKey("outbox_events.id"), nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Timestamp, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", String(500)),
    Column("created_at", Timestamp, nullable=False),
    Column("delivered_at", Timestamp),
    UniqueConstraint("webhook_id", "event_id"),
    Index(None, "status", "next_attempt_at"),
)

webhook_cursor = Table(
    "webhook_cursor",
    metadata,
    # The one fan-out cursor before each webhook had its own (revision 0009); no longer
    # read, kept until no code from before that revision can be running.
    Column("id", Integer, primary_key=True),
    Column("last_event_id", BigId, nullable=False),
)
