"""Tables for what inspection decided per unit, and the refunds it leads to."""

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
    UniqueConstraint,
)

from .tables import Money, Timestamp, metadata

refunds = Table(
    "refunds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("return_id", ForeignKey("returns.id"), nullable=False),
    Column("return_line_id", ForeignKey("return_lines.id"), nullable=False),
    Column("status", String(16), nullable=False),  # due, paid, cancelled
    Column("timing", String(16), nullable=False),  # on_receipt, on_inspection
    Column("units", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
    Column("goods", Money, nullable=False),
    Column("shipping_refund", Money, nullable=False),
    Column("total", Money, nullable=False),
    Column("method", String(24), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("payment_ref", String(128)),
    Column("paid_at", Timestamp),
    Column("paid_by", String(128)),
    Column("cancel_reason", String(255)),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Index(None, "status", "due_on"),
    Index(None, "return_id"),
)

refund_deductions = Table(
    "refund_deductions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("refund_id", ForeignKey("refunds.id"), nullable=False),
    Column("code", String(32), nullable=False),
    Column("label", String(128), nullable=False),
    Column("amount", Money, nullable=False),
    Index(None, "refund_id"),
)

inspection_outcomes = Table(
    "inspection_outcomes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("return_units.id"), nullable=False),
    Column("return_id", ForeignKey("returns.id"), nullable=False),
    Column("return_line_id", ForeignKey("return_lines.id"), nullable=False),
    # An override is a new row with the next sequence; the latest row is in force.
    Column("sequence", Integer, nullable=False),
    Column("kind", String(16), nullable=False),  # inspection, override
    Column("outcome", String(16), nullable=False),  # accept, deduct, refuse
    Column("rule", String(64), nullable=False),
    Column("deductions", JSON, nullable=False),  # [{code, label, amount}]
    Column("failed", JSON, nullable=False),  # conditions found not met
    Column("unit_price", Money, nullable=False),
    Column("amount", Money, nullable=False),  # the unit's refund after its deductions
    Column("refund_id", ForeignKey("refunds.id")),
    Column("reason", String(255)),
    Column("actor", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    # A grade's outcome waits here for the settlement step (services/settlement.py), which
    # issues the line's refund and answers the customer, then clears it.
    Column("settling", Boolean, nullable=False, server_default="0"),
    UniqueConstraint("unit_id", "sequence"),
    Index(None, "return_line_id"),
    Index(None, "return_id"),
    Index("ix_inspection_outcomes_settling", "settling", "id"),
)
