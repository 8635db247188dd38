"""The demo loaders put data in the way production does: imports, then returns through the
services; once per database. Small sizes, both databases."""

from __future__ import annotations

import csv
import gzip
import itertools
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from returns_inventory.demo.online_retail import load_online_retail
from returns_inventory.demo.synthetic import build_demo, load_synthetic
from returns_inventory.persistence.planning_tables import forecast_runs, replenishment_suggestions
from returns_inventory.persistence.returns_tables import imported_returns, return_units, returns
from returns_inventory.persistence.tables import (
    import_batches,
    items,
    ledger_movements,
    sales_lines,
)
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.refunds import list_refunds
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.stock import verify_ledger
from tests.factories import add_item, add_location, add_sale

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TODAY = date(2026, 11, 23)


@pytest.fixture
def policies(settings):
    return Policies.from_settings(settings)


def _count(db, table, *where) -> int:
    return db.connection.scalar(select(func.count()).select_from(table).where(*where))


def _snapshot(db) -> dict:
    return {t.name: _count(db, t) for t in (import_batches, items, sales_lines, returns,
                                            return_units, forecast_runs)}


def test_the_synthetic_demo_arrives_through_the_imports_and_the_returns_services(
        db, uow_factory, settings, policies):
    said: list[str] = []
    report = load_synthetic(uow_factory, settings, policies, skus=20, seed=3, today=TODAY,
                            level=-2.5, say=said.append)
    assert report.skipped is None
    # The replay, the long quiet part of a load, says how far it is: its first and last day.
    days = re.findall(r"^replaying returns: day (\d+) of (\d+) \(\d{4}-\d\d-\d\d\)$",
                      "\n".join(said), re.M)
    assert days[0][0] == "1" and days[-1][0] == days[-1][1] and int(days[-1][1]) > 100
    kinds = {r.kind for r in db.connection.execute(select(import_batches.c.kind))}
    assert kinds == {"locations", "items", "sales", "purchase-orders", "stock", "demo"}
    assert _count(db, sales_lines, sales_lines.c.batch_id.is_not(None)) == _count(db, sales_lines)
    assert _count(db, items) > 60  # 20 styles in 4-6 sizes
    # The quality scorecards have factories, seasons and fabrics to compare.
    for column in (items.c.factory, items.c.season, items.c.fabric):
        assert db.connection.scalar(select(func.count(column.distinct()))) >= 2
    graded = _count(db, return_units, return_units.c.grade.is_not(None))
    assert report.returns["units_graded"] == graded > 20
    # Receipts keep their historical dates: most are weeks old, none in the future.
    oldest = db.connection.scalar(select(func.min(return_units.c.received_at)))
    assert oldest.date() < TODAY - timedelta(days=300)
    assert report.forecast["status"] == "succeeded"
    assert _count(db, replenishment_suggestions) == report.forecast["suggestion_count"] > 0
    assert set(report.logins) == {"grader", "planner", "admin"}
    assert verify_ledger(uow_factory) == []
    # The ERP paid the history's refunds when they fell due; a few stay overdue to show the flag.
    overdue = list_refunds(uow_factory, status="overdue", today=TODAY, limit=10_000, after=None)
    paid = list_refunds(uow_factory, status="paid", today=TODAY, limit=10_000, after=None)
    assert len(paid) == report.returns["refunds_paid"] > 0
    assert 0 < len(overdue) < len(paid) / 20

    before = _snapshot(db)
    again = load_synthetic(uow_factory, settings, policies, skus=20, seed=3, today=TODAY,
                           level=-2.5)
    assert "already loaded" in again.skipped
    assert _snapshot(db) == before


def test_the_demo_refuses_a_database_that_already_holds_data(
        db, uow_factory, settings, policies):
    add_location(uow_factory, "WH9")
    report = load_synthetic(uow_factory, settings, policies, skus=2, today=TODAY)
    assert "empty database" in report.skipped
    assert _count(db, items) == 0 and _count(db, import_batches) == 0


def test_demo_returns_follow_the_synthetic_truth_small_sizes_come_back_too_small():
    data = build_demo(skus=60, seed=1, today=TODAY, level=0.0)
    reasons = {"XS": [], "XL": []}
    sizes = {(row[1], row[2]): row[4] for row in data.sales}  # (order, line) -> size
    for parcel in data.returns:
        for line in parcel.lines:
            size = sizes[(parcel.order_ref, line.line_ref)]
            if size in reasons:
                reasons[size] += [line.reason] * line.quantity
    share = {s: r.count("too_small") / len(r) for s, r in reasons.items()}
    assert share["XS"] > 0.35 > 0.2 > share["XL"]
    assert all(p.requested_on <= p.received_at.date() < TODAY for p in data.returns)


def test_a_historical_receipt_keeps_its_arrival_date(uow_factory, policies, db):
    item_id = add_item(uow_factory, "TEE-OLD", "M")
    location_id = add_location(uow_factory, "WH1")
    sold_on = date(2025, 3, 3)
    add_sale(uow_factory, item_id, location_id, order_ref="SO-OLD", sold_on=sold_on)
    view = authorize_return(uow_factory, policies, order_ref="SO-OLD", actor="test",
                            requested_on=sold_on + timedelta(days=10),
                            today=sold_on + timedelta(days=10),
                            lines=[ReturnLineRequest("1", 1, "too_small")])
    arrived = datetime(2025, 3, 17, 10, 30, tzinfo=UTC)
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH1", actor="test",
                           lines=[{"line_no": 1, "quantity": 1}], received_at=arrived)
    stored = db.connection.scalar(
        select(return_units.c.received_at).where(return_units.c.unit_code == unit.unit_id))
    assert stored.replace(tzinfo=UTC) == arrived


HEADER = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
          "CustomerID", "Country")


def _retail_file(path: Path, rows) -> Path:
    with gzip.open(path, "wt", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_online_retail_invoices_become_sales_and_C_lines_matched_returns(
        db, uow_factory, settings, policies, tmp_path):
    first = _retail_file(tmp_path / "a.csv.gz", [
        ("500001", "85123A", "WHITE HANGING HEART", "6", "2011-01-03 09:00:00", "2.55", "17850",
         "United Kingdom"),
        ("500001", "71053", "WHITE METAL LANTERN", "4", "2011-01-03 09:00:00", "3.39", "17850",
         "United Kingdom"),
        ("500002", "85123A", "", "12", "2011-01-04 10:00:00", "2.55", "", "France"),
        ("500003", "POST", "POSTAGE", "1", "2011-01-04 10:00:00", "18.00", "12583", "France"),
        ("500004", "71053", "", "-3", "2011-01-05 10:00:00", "0", "", "United Kingdom"),
        ("A500005", "B", "Adjust bad debt", "1", "2011-01-05 10:00:00", "-11062.06", "",
         "United Kingdom"),
        ("C500006", "85123A", "WHITE HANGING HEART", "-2", "2011-01-10 11:00:00", "2.55",
         "17850", "United Kingdom"),  # matched to 500001 line 1
        ("C500007", "71053", "WHITE METAL LANTERN", "-1", "2011-01-10 11:00:00", "3.39", "",
         "United Kingdom"),  # no customer: not matched
    ])
    second = _retail_file(tmp_path / "b.csv.gz", [  # overlaps the first file by one invoice
        ("500002", "85123A", "", "12", "2011-01-04 10:00:00", "2.55", "", "France"),
        ("500010", "71053", "WHITE METAL LANTERN", "8", "2011-01-12 09:00:00", "3.39", "13047",
         "United Kingdom"),
        ("C500011", "71053", "WHITE METAL LANTERN", "-8", "2011-03-30 09:00:00", "3.39",
         "13047", "United Kingdom"),  # 77 days after the sale: outside the 30-day window
    ])
    report = load_online_retail(uow_factory, settings, policies, [first, second])
    assert report.skipped is None
    assert {(r.sku, r.size, r.category) for r in db.connection.execute(
        select(items.c.sku, items.c.size, items.c.category))} == {
        ("85123A", "ONE", "homeware"), ("71053", "ONE", "homeware")}
    assert _count(db, sales_lines) == 4  # 2 + 1 + 1; POST, adjustments and A skipped
    # Every C line is history: matched to the customer's purchase, else by code and date;
    # none is judged by today's return window, and none makes a unit or moves stock.
    history = db.connection.execute(
        select(imported_returns.c.return_ref, imported_returns.c.quantity,
               imported_returns.c.sold_on, imported_returns.c.returned_on,
               imported_returns.c.reason, imported_returns.c.sales_line_id.is_not(None))
        .order_by(imported_returns.c.return_ref)).all()
    assert history == [
        ("C500006", 2, date(2011, 1, 3), date(2011, 1, 10), "other", True),
        ("C500007", 1, None, date(2011, 1, 10), "other", False),
        ("C500011", 8, date(2011, 1, 12), date(2011, 3, 30), "other", True),
    ]
    assert report.returns["credit_note_lines"] == 3
    assert (report.returns["matched_lines"], report.returns["unmatched_lines"]) == (2, 1)
    assert _count(db, return_units) == 0 and _count(db, ledger_movements) == 0
    assert report.forecast["status"] == "succeeded"
    assert report.forecast["as_of"] == date(2011, 3, 31)
    before = _snapshot(db)
    assert "already loaded" in load_online_retail(
        uow_factory, settings, policies, [first, second]).skipped
    assert _snapshot(db) == before


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.exists(), reason="../shared/data is not here")
def test_the_first_50k_rows_of_the_real_online_retail_file_load(
        backend, db, uow_factory, settings, policies, tmp_path):
    if backend != "sqlite":
        pytest.skip("one backend is enough for the real file")
    part = tmp_path / "online_retail_head.csv.gz"
    with gzip.open(SHARED_DATA / "online_retail_2010_2011.csv.gz", "rt") as src, \
            gzip.open(part, "wt") as out:
        out.writelines(itertools.islice(src, 50_001))
    report = load_online_retail(uow_factory, settings, policies, [part])
    assert _count(db, sales_lines) > 45_000
    assert report.returns["matched_units"] > 0
    assert _count(db, imported_returns) == (
        report.returns["matched_lines"] + report.returns["unmatched_lines"])
    assert report.forecast["status"] == "succeeded"
    assert report.forecast["series_count"] > 2000


def test_demo_cli_help_names_both_sources():
    from click.testing import CliRunner

    from returns_inventory.cli import main

    result = CliRunner().invoke(main, ["demo", "load", "--help"])
    assert result.exit_code == 0
    assert "--online-retail" in result.output and "--skus" in result.output
