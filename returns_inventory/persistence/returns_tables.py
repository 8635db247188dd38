"""Tables for returns: authorizations, units, gradings, write-offs and exchanges."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .tables import BigId, Money, Timestamp, metadata

returns = Table(
    "returns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rma", String(32), nullable=False, unique=True),
    Column("order_ref", String(64), nullable=False),
    Column("sold_channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("gift", Boolean, nullable=False, server_default="0"),
    Column("shipping_paid_by", String(16), nullable=False),
    Column("rejection_rule", String(32)),
    Column("rejection_detail", String(255)),
    Column("customer_note", Text),
    Column("requested_on", Date, nullable=False),
    # The refund terms of the sale's channel when the return was authorized (inspection.py).
    Column("refund_timing", String(16), nullable=False, server_default="on_receipt"),
    Column("refund_method", String(24), nullable=False, server_default="original_payment"),
    Column("refund_within_days", Integer, nullable=False, server_default="14"),
    # Where the ERP ships to the customer: a refused unit goes back there.
    Column("address_ref", String(128)),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Index(None, "order_ref"),
)

return_lines = Table(
    "return_lines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("return_id", ForeignKey("returns.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("sales_line_id", ForeignKey("sales_lines.id"), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("received_quantity", Integer, nullable=False, server_default="0"),
    Column("reason", String(32), nullable=False),
    Column("resolution", String(16), nullable=False),
    Column("exchange_item_id", ForeignKey("items.id")),
    Column("condition_met", Boolean, nullable=False, server_default="1"),
    # The conditions the customer declared met (tags_on, unworn, unwashed).
    Column("declared_condition", JSON),
    Column("note", Text),
    UniqueConstraint("return_id", "line_no"),
    Index(None, "sales_line_id"),
    Index(None, "item_id"),  # a page of the returns analytics reads its items' lines
)

return_units = Table(
    "return_units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_code", String(32), nullable=False, unique=True),
    Column("return_id", ForeignKey("returns.id")),
    Column("return_line_id", ForeignKey("return_lines.id")),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("status", String(24), nullable=False),
    Column("condition", String(16)),
    Column("grade", String(1)),
    Column("disposition", String(32)),
    Column("defects", JSON, nullable=False),
    Column("note", Text),
    Column("blind", Boolean, nullable=False, server_default="0"),
    Column("flagged_for_review", Boolean, nullable=False, server_default="0"),
    Column("received_at", Timestamp, nullable=False),
    Column("received_by", String(128), nullable=False),
    Column("graded_at", Timestamp),
    Column("graded_by", String(128)),
    Index(None, "return_id"),
    Index(None, "item_id", "status"),
    Index(None, "return_line_id"),
)

unit_gradings = Table(
    "unit_gradings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("return_units.id"), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # grade, regrade, repair_outcome
    Column("grade", String(1)),
    Column("defects", JSON, nullable=False),
    Column("disposition", String(32), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("note", Text),
    Column("reason", String(255)),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # The unique pair is what makes grading exactly-once even if two requests race.
    UniqueConstraint("unit_id", "sequence"),
)

unit_photos = Table(
    "unit_photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("return_units.id"), nullable=False),
    Column("filename", String(128), nullable=False, unique=True),
    Column("content_type", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index(None, "unit_id"),
)

write_offs = Table(
    "write_offs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("return_units.id"), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id"), nullable=False),
    Column("value", Money, nullable=False),
    Column("reason", String(255), nullable=False),
    Column("status", String(24), nullable=False),  # WriteOffStatus (domain/grading.py)
    Column("requested_by", String(128), nullable=False),
    Column("decided_by", String(128)),
    Column("created_at", Timestamp, nullable=False),
    Column("posted_at", Timestamp),
    Index(None, "status"),
    Index(None, "posted_at"),
)

exchanges = Table(
    "exchanges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("return_id", ForeignKey("returns.id"), nullable=False),
    Column("return_line_id", ForeignKey("return_lines.id"), nullable=False),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("location_id", ForeignKey("locations.id")),
    Column("quantity", Integer, nullable=False),
    # reserved, backordered, released, shipped, cancelled
    Column("status", String(16), nullable=False),
    Column("expires_at", Timestamp),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Index(None, "status", "expires_at"),
)

# The ERP's return history: returns made before the service, imported as they were. They feed
# analytics and forecasting beside live returns but are no units and never moved stock.
imported_returns = Table(
    "imported_returns",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("return_ref", String(64), nullable=False),
    Column("return_line_ref", String(64), nullable=False),
    Column("batch_id", ForeignKey("import_batches.id"), nullable=False),
    # The sale it belongs to, when the ERP named its order line; else only item and date.
    Column("sales_line_id", ForeignKey("sales_lines.id")),
    Column("item_id", ForeignKey("items.id"), nullable=False),
    Column("sold_on", Date),  # None: the sale's date is unknown
    Column("customer", String(64)),
    Column("returned_on", Date, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("reason", String(32), nullable=False),  # the service's code
    Column("erp_reason", String(64), nullable=False),  # the ERP's own, as sent
    Column("received_on", Date),
    Column("grade", String(1)),
    Column("disposition", String(32)),
    UniqueConstraint("return_ref", "return_line_ref"),
    Index(None, "item_id", "sold_on"),
    Index(None, "sales_line_id"),
    Index(None, "batch_id"),  # an import's lines, to add them to returns_by_sale_day
)
