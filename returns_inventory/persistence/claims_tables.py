"""Tables for vendor claims: what is owed back by a supplier for the units it made badly."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
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

from .tables import Money, Timestamp, metadata

vendor_claims = Table(
    "vendor_claims",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("supplier", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # draft, sent, credited, rejected
    Column("value", Money, nullable=False, server_default="0"),  # at cost, the units' sum
    Column("credited_value", Money),  # what the supplier credited (may differ from value)
    Column("erp_reference", String(128)),  # the ERP's credit note
    Column("note", Text),
    Column("created_by", String(128), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("sent_at", Timestamp),
    Column("decided_at", Timestamp),
    Column("decided_by", String(128)),
    Column("updated_at", Timestamp, nullable=False),
    CheckConstraint("status in ('draft', 'sent', 'credited', 'rejected')", name="status_known"),
    Index(None, "supplier", "status"),
)

vendor_claim_units = Table(
    "vendor_claim_units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("claim_id", ForeignKey("vendor_claims.id"), nullable=False),
    Column("unit_id", ForeignKey("return_units.id"), nullable=False),
    Column("value", Money, nullable=False),
    Column("sold_on", Date),
    Column("window_ends_on", Date),  # the last day the supplier accepts it
    UniqueConstraint("unit_id"),
    Index(None, "claim_id"),
)
