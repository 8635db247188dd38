"""Historical returns from the ERP: imported all or nothing, counted by analytics and the
nightly run as live returns are, and never moving stock."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from returns_inventory.domain.errors import ValidationFailed
from returns_inventory.domain.weeks import week_of
from returns_inventory.persistence.returns_tables import imported_returns
from returns_inventory.persistence.tables import ledger_movements, stock_balances
from returns_inventory.services.analytics import returns_analytics
from returns_inventory.services.imports import import_rows
from returns_inventory.services.planning_inputs import RETURN_CODES
from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale

HEADER = "return_ref,return_line_ref,returned_on,quantity,reason,order_ref,line_ref,sku,size,"\
    "customer,sold_on,received_on,grade,disposition\n"


@pytest.fixture(scope="module")
def policies():
    return Policies.from_settings(Settings.load(env={}))


def run_import(uow_factory, policies, content: str | bytes, fmt: str = "csv"):
    data = content.encode() if isinstance(content, str) else content
    return import_rows(uow_factory, "returns", io.BytesIO(data), fmt=fmt,
                       sha256=hashlib.sha256(data).hexdigest(), actor="token:erp",
                       policies=policies)


def refusal(uow_factory, policies, content) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        run_import(uow_factory, policies, content)
    return caught.value


def stored(db) -> list[dict]:
    rows = db.connection.execute(select(imported_returns).order_by(imported_returns.c.id))
    return [dict(r._mapping) for r in rows]


def count(db, table) -> int:
    return db.connection.scalar(select(func.count()).select_from(table))


@pytest.fixture
def sold(uow_factory):
    """Two sizes of one tee sold in November: 10 of M on SO-1, 10 of L on SO-2."""
    wh = add_location(uow_factory, "WH1")
    m = add_item(uow_factory, "TEE", "M")
    large = add_item(uow_factory, "TEE", "L")
    add_sale(uow_factory, m, wh, order_ref="SO-1", line_ref="1", quantity=10,
             sold_on=date(2026, 11, 2))
    add_sale(uow_factory, large, wh, order_ref="SO-2", line_ref="1", quantity=10,
             sold_on=date(2026, 11, 2))
    return {"M": m, "L": large}


def test_returned_lines_are_stored_as_imported_history_without_moving_stock(
        uow_factory, db, policies, sold):
    movements, balances = count(db, ledger_movements), count(db, stock_balances)
    result = run_import(uow_factory, policies, HEADER
                        + "CN-1,1,2026-11-09,3,01,SO-1,1,,,C42,,2026-11-12,B,\n"
                        + "CN-1,2,2026-11-09,1,too_large,,,TEE,L,C42,2026-11-02,,,\n")
    assert (result.rows, result.applied, result.skipped) == (2, 2, 0)
    first, second = stored(db)
    assert first["sales_line_id"] is not None and first["item_id"] == sold["M"]
    assert first["sold_on"] == date(2026, 11, 2)  # from the sale it belongs to
    assert (first["reason"], first["erp_reason"]) == ("too_small", "01")
    assert (first["grade"], first["disposition"]) == ("B", "restock_second_quality")
    assert first["batch_id"] == result.batch_id
    assert second["sales_line_id"] is None and second["item_id"] == sold["L"]
    assert (second["reason"], second["customer"], second["received_on"]) == (
        "too_large", "C42", None)
    assert (count(db, ledger_movements), count(db, stock_balances)) == (movements, balances)


def test_returns_are_read_as_json_and_gzip_too(uow_factory, db, policies, sold):
    rows = [{"return_ref": "CN-9", "return_line_ref": "1", "returned_on": "2026-11-10",
             "quantity": 2, "reason": "changed_mind", "order_ref": "SO-2", "line_ref": "1"}]
    result = run_import(uow_factory, policies, gzip.compress(json.dumps(rows).encode()), "json")
    assert result.applied == 1
    assert stored(db)[0]["item_id"] == sold["L"]


def test_a_resent_file_or_line_is_not_applied_twice(uow_factory, db, policies, sold):
    line = "CN-1,1,2026-11-09,3,01,SO-1,1,,,,,,,\n"
    run_import(uow_factory, policies, HEADER + line)
    again = run_import(uow_factory, policies, HEADER + line)
    assert again.duplicate
    second = "CN-2,1,2026-11-10,2,01,SO-1,1,,,,,,,\n"
    both = run_import(uow_factory, policies, HEADER + line + second)
    assert (both.applied, both.skipped) == (1, 1)
    assert sum(r["quantity"] for r in stored(db)) == 5


def test_a_bad_file_names_each_bad_row_and_imports_nothing(uow_factory, db, policies, sold):
    error = refusal(uow_factory, policies, HEADER
                    + "CN-1,1,2026-11-09,3,01,SO-1,1,,,,,,,\n"     # good
                    + "CN-1,2,2026-11-09,1,XX,SO-1,1,,,,,,,\n"     # unknown reason code
                    + "CN-1,3,2026-11-09,1,01,SO-404,1,,,,,,,\n"   # no such sale
                    + "CN-1,4,2026-11-09,1,01,,,,,,,,,\n"          # names no sale at all
                    + "CN-1,5,2026-11-09,1,01,,,NOPE,M,,,,,\n"     # no such item
                    + "CN-1,6,2026-11-09,8,01,SO-1,1,,,,,,,\n"     # 3 + 8 > 10 sold
                    + "CN-1,7,2026-11-01,1,01,SO-2,1,,,,,,,\n"     # before the sale
                    + "CN-1,8,2026-11-09,1,01,SO-2,1,TEE,M,,,,,\n"  # SO-2 sold TEE L
                    + "CN-1,9,2026-11-09,1,01,,,TEE,M,,,,E,\n")    # no grade E
    found = {(e.row, e.field) for e in error.errors}
    assert found == {(2, "reason"), (3, "line_ref"), (4, "order_ref"), (5, "sku"),
                     (1, "quantity"), (6, "quantity"), (7, "returned_on"), (8, "sku"),
                     (9, "grade")}
    assert "map it in config/returns_policy.toml" in next(
        e.reason for e in error.errors if e.field == "reason")
    assert stored(db) == []


def test_a_file_whose_rows_all_parse_is_still_refused_for_what_the_sales_say(
        uow_factory, db, policies, sold):
    """Well-formed rows are inserted before the sales checks run: those must still name each
    row, and nothing may stay written."""
    error = refusal(uow_factory, policies, HEADER
                    + "CN-1,1,2026-11-09,3,01,SO-1,1,,,,,,,\n"     # good
                    + "CN-1,3,2026-11-09,1,01,SO-404,1,,,,,,,\n"   # no such sale
                    + "CN-1,5,2026-11-09,1,01,,,NOPE,M,,,,,\n"     # no such item
                    + "CN-1,7,2026-11-01,1,01,SO-2,1,,,,,,,\n"     # before the sale
                    + "CN-1,8,2026-11-09,1,01,SO-2,1,TEE,M,,,,,\n"  # SO-2 sold TEE L
                    + "CN-1,1,2026-11-09,1,01,SO-2,1,,,,,,,\n")    # repeats row 1's key
    assert [(e.row, e.field) for e in error.errors] == [
        (2, "line_ref"), (3, "sku"), (4, "returned_on"), (5, "sku"),
        (6, "return_ref+return_line_ref")]
    assert stored(db) == []


def test_a_re_sent_line_is_not_counted_twice_against_what_its_sale_sold(
        uow_factory, db, policies, sold):
    """6 returned of the 10 sold, then the same line again beside 3 more: 9 in all, within
    what was sold, though the file's lines and the stored one add up to 15."""
    run_import(uow_factory, policies, HEADER + "CN-1,1,2026-11-09,6,01,SO-1,1,,,,,,,\n")
    both = run_import(uow_factory, policies, HEADER + "CN-1,1,2026-11-09,6,01,SO-1,1,,,,,,,\n"
                      + "CN-2,1,2026-11-10,3,01,SO-1,1,,,,,,,\n")
    assert (both.applied, both.skipped) == (1, 1)
    assert sum(r["quantity"] for r in stored(db)) == 9


def test_too_many_returned_of_a_line_is_named_beside_the_other_problems(
        uow_factory, db, policies, sold):
    error = refusal(uow_factory, policies, HEADER
                    + "CN-1,1,2026-11-09,8,01,SO-1,1,,,,,,,\n"
                    + "CN-1,2,2026-11-09,3,01,SO-1,1,,,,,,,\n"    # 8 + 3 > 10 sold
                    + "CN-1,3,2026-11-09,1,01,SO-404,1,,,,,,,\n")  # no such sale
    assert [(e.row, e.field) for e in error.errors] == [
        (1, "quantity"), (2, "quantity"), (3, "line_ref")]
    assert stored(db) == []


def test_returns_beyond_what_was_imported_before_are_refused(uow_factory, db, policies, sold):
    run_import(uow_factory, policies, HEADER + "CN-1,1,2026-11-09,9,01,SO-1,1,,,,,,,\n")
    error = refusal(uow_factory, policies, HEADER + "CN-2,1,2026-11-10,2,01,SO-1,1,,,,,,,\n")
    assert [(e.row, e.field) for e in error.errors] == [(1, "quantity")]
    assert "9 of them returned before" in error.errors[0].reason


def test_imported_returns_count_in_returns_analytics_with_their_fit_signal(
        uow_factory, policies, sold):
    run_import(uow_factory, policies, HEADER
               + "CN-1,1,2026-11-09,6,01,SO-1,1,,,,,2026-11-12,A,\n"
               + "CN-2,1,2026-11-09,1,07,SO-2,1,,,,,,D,\n")
    answer = returns_analytics(uow_factory, policies.returns, since=date(2026, 11, 1),
                               until=date(2026, 11, 30))
    [tee] = answer["skus"]
    sizes = {s["size"]: s for s in tee["sizes"]}
    assert (sizes["M"]["units_returned"], sizes["M"]["return_rate"]) == (6, 0.6)
    assert sizes["M"]["reasons"]["too_small"] == 6
    assert sizes["M"]["grades"]["A"] == 6
    assert sizes["M"]["median_days_to_receipt"] == 10  # sold 2 Nov, received 12 Nov
    assert (sizes["L"]["written_off_units"], sizes["L"]["write_off_value"]) == (1, "8.50")
    assert [t["size"] for t in answer["fit_signals"]] == ["M"]


def test_imported_returns_feed_the_nightly_runs_returns_panel(uow_factory, policies, sold):
    run_import(uow_factory, policies, HEADER
               + "CN-1,1,2026-11-09,4,01,SO-1,1,,,,,2026-11-16,A,\n"
               + "CN-2,1,2026-11-20,2,02,,,TEE,L,,,,,\n")
    with uow_factory() as uow:
        rows = uow.planning.received_returns(week_of(date(2026, 10, 5)),
                                             week_of(date(2026, 11, 23)), **RETURN_CODES)
    by_item = {r[0]: r for r in rows.tolist()}
    reasons, grades = RETURN_CODES["reasons"], RETURN_CODES["grades"]
    _item, sale_week, receipt_week, reason, grade, units = by_item[sold["M"]]
    assert (sale_week, receipt_week, units) == (
        week_of(date(2026, 11, 2)), week_of(date(2026, 11, 16)), 4)
    assert (reasons[reason], grades[grade]) == ("too_small", "A")
    # Sale date unknown: it counts as sold the week it came back.
    _, sale_week, receipt_week, reason, _, units = by_item[sold["L"]]
    assert sale_week == receipt_week == week_of(date(2026, 11, 20)) and units == 2
