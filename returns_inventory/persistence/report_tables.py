"""Returns analytics reports as stored: one row per report (window, family, policy) and one
per SKU of it, so a page reads its own SKUs' rows and nothing report-wide.

A report's tests are one Benjamini-Hochberg family over every SKU x size of the window, so
it cannot be brought up to date a page at a time: it is computed whole (from the day
summaries, services/analytics_report.py) by the scheduler's `returns-reports` job or by the
first read of a window nobody asked for before, and stored here with the change stamp of the
data it counted and when it was computed. Reads state both (`report.computed_at`,
`report.current`).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from .tables import metadata

returns_reports = Table(
    "returns_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("since", Date, nullable=False),
    Column("until", Date, nullable=False),
    # '' for every category, else the family's categories as a JSON list.
    Column("family", String(512), nullable=False),
    # The policy's reason codes, fit and quality marks and heat threshold, hashed: a report
    # of another policy is another report.
    Column("policy_key", String(64), nullable=False),
    Column("stamp", Text, nullable=False),  # AnalyticsRepository.change_stamp, as JSON
    Column("computed_at", DateTime(timezone=True), nullable=False),
    Column("compute_ms", Integer, nullable=False),  # how long computing it took
    Column("header", Text, nullable=False),  # the report-wide figures, as JSON
    UniqueConstraint("since", "until", "family", "policy_key"),
)

returns_report_skus = Table(
    "returns_report_skus",
    metadata,
    Column("report_id", Integer, ForeignKey("returns_reports.id", ondelete="CASCADE"),
           nullable=False),
    Column("position", Integer, nullable=False),  # the SKU's place in SKU order
    Column("sku", String(64), nullable=False),
    Column("heat_rank", Integer, nullable=False),  # its place on the heat map
    Column("body", Text, nullable=False),  # the SKU's report figures and tests, as JSON
    PrimaryKeyConstraint("report_id", "position"),
    Index("ix_returns_report_skus_report_id_heat_rank", "report_id", "heat_rank"),
    Index("ix_returns_report_skus_report_id_sku", "report_id", "sku"),
)
