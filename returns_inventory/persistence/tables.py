"""Table definitions. Enums are stored by value; constraint names follow one convention."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_N_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids fall back to INTEGER there.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(12, 2)


class UtcTimestamp(TypeDecorator):
    """An instant, stored and read back in UTC on both databases.

    SQLite keeps no offset: it would store an aware value's wall-clock time as given (so a
    filter written in +05:00 compared five hours off) and hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Timestamp = UtcTimestamp()

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("size", String(32), nullable=False),
    Column("gtin", String(14), unique=True),
    Column("category", String(64), nullable=False, server_default="uncategorised"),
    Column("description", String(255), nullable=False, server_default=""),
    Column("unit_cost", Money, nullable=False, server_default="0"),
    Column("price", Money, nullable=False, server_default="0"),
    Column("supplier", String(64)),
    Column("lead_time_days", Integer, nullable=False, server_default="14"),
    Column("case_pack", Integer, nullable=False, server_default="1"),
    Column("min_order_qty", Integer, nullable=False, server_default="1"),
    # Optional: new items are forecast from their launch; without it the first sale counts.
    Column("launched_on", Date),
    # Optional: where and when it was made, of what; quality scorecards group by them.
    Column("factory", String(64)),
    Column("season", String(32)),
    Column("fabric", String(64)),
    # Optional: a picture of the item for the grading bench (a path on this site, or a URL
    # on a host config/grading.toml [item_images] allows).
    Column("image_url", String(500)),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("sku", "size"),
    # The newest change is what tells a stored returns report or kept quality alerts that an
    # item changed (services/stored_reports.py, report_cache.py).
    Index(None, "updated_at"),
    CheckConstraint("case_pack >= 1", name="case_pack_positive"),
    CheckConstraint("min_order_qty >= 0", name="moq_not_negative"),
    CheckConstraint("lead_time_days >= 0", name="lead_time_not_negative"),
    # The planners' filters by category and by supplier find their items first.
    Index(None, "category"),
    Index("ix_items_supplier_id", "supplier", "id"),  # index-only: a supplier's items
)

# The planners' search: SKU or description starting with a text, whatever the case.
for _column in (items.c.sku, items.c.description):
    Index(f"ix_items_lower_{_column.name}", func.lower(_column).label(f"lower_{_column.name}"),
          postgresql_ops={f"lower_{_column.name}": "varchar_pattern_ops"})

locations = Table(
    "locations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(128), nullable=False),
    Column("type", String(16), nullable=False),
    Column("allow_negative", Boolean, nullable=False, server_default="0"),
    CheckConstraint("type in ('warehouse', 'store')", name="type_known"),
)

stock_balances = Table(
    "stock_balances",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("condition", String(16), nullable=False),
    Column("on_hand", Integer, nullable=False, server_default="0"),
    Column("reserved", Integer, nullable=False, server_default="0"),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("item_id", "location_id", "condition"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint(
        "condition in ('sellable', 'second_quality', 'repair', 'quarantine')",
        name="condition_known",
    ),
)

ledger_movements = Table(
    "ledger_movements",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("balance_id", ForeignKey("stock_balances.id"), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("condition", String(16), nullable=False),
    Column("movement_type", String(24), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False, server_default="0"),
    Column("on_hand_after", Integer, nullable=False),
    Column("reserved_after", Integer, nullable=False),
    Column("reason", String(255)),
    Column("reference", String(128)),
    Column("actor", String(128), nullable=False),
    Column("idempotency_key", String(255), unique=True),
    Column("created_at", Timestamp, nullable=False),
    Index(None, "balance_id"),
    Index(None, "item_id", "created_at"),
    Index(None, "reference"),
)

sales_lines = Table(
    "sales_lines",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("order_ref", String(64), nullable=False),
    Column("line_ref", String(64), nullable=False),
    Column("sold_on", Date, nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("batch_id", ForeignKey("import_batches.id")),
    UniqueConstraint("order_ref", "line_ref"),
    Index(None, "item_id", "sold_on"),
    CheckConstraint("channel in ('online', 'store')", name="channel_known"),
)

purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("po_ref", String(64), nullable=False),
    Column("line_ref", String(64), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("received_quantity", Integer, nullable=False, server_default="0"),
    Column("expected_on", Date, nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("updated_at", Timestamp, nullable=False),
    UniqueConstraint("po_ref", "line_ref"),
    Index(None, "item_id", "status"),
)

import_batches = Table(
    "import_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("applied_count", Integer, nullable=False),
    Column("skipped_count", Integer, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    UniqueConstraint("kind", "content_sha256"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("last_used_at", Timestamp),
    Column("revoked_at", Timestamp),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("actor", String(128), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("method", String(8), nullable=False),
    Column("path", String(512), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response_body", Text),
    Column("content_type", String(128)),
    Column("created_at", Timestamp, nullable=False),
    Column("completed_at", Timestamp),
    # Which attempt holds the key (a retry that takes over gets a new token), and when that
    # attempt's work committed: set in the same transaction as the work itself.
    Column("claim_token", String(32)),
    Column("applied_at", Timestamp),
)

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("event_type", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # PostgreSQL transaction id of the writer: which transaction announced it, and, for an
    # endpoint registered with a snapshot (planning_tables.webhooks), whether it was before.
    Column("txid", BigInteger),
    # The feed of one type past a cursor, in id order.
    Index("ix_outbox_events_event_type_id", "event_type", "id"),
)
