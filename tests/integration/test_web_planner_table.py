"""The suggestions table a planner decides 3,000 lines from: the figures behind each order,
search and filters, columns chosen per person, the export of what is shown, next and
previous, and reopening a decision before the ERP has it."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from returns_inventory.persistence.planning_tables import replenishment_suggestions as rs
from returns_inventory.persistence.tables import items, outbox_events
from tests.integration.suggestion_data import build_board
from tests.integration.test_web_planner import _decide, _decisions, _page, _row, _words, confirm
from tests.integration.web_support import hidden, log_in

# A hand-worked order: 4 weeks of protection, 40 sold less 6 returned = 8.5 a week net;
# 17 in position lasts 2.0 weeks, and 47 with the order of 30 lasts 5.5.
TERMS = {"protection_weeks": 4, "gross_demand": 40.0, "expected_returns": 6.0,
         "on_hand": 15.0, "reserved": 1.0, "on_order": 3.0, "inventory_position": 17.0,
         "service_level": 0.98, "safety_stock": 5.0, "blind_safety_stock": 4.0,
         "order_up_to": 39.0, "raw_order": 22.0, "order_qty": 30.0, "blind_order_qty": 36.0,
         "blind_order_up_to": 44.0, "moq_applied": -0.0}


@pytest.fixture
def board(uow_factory, db):
    board = build_board(uow_factory)
    db.connection.execute(update(rs).where(rs.c.id == board.ids["TEE-BLK/M"])
                          .values(terms=TERMS))
    db.connection.execute(update(items).where(items.c.id == board.item_ids["JEAN-IND/32"])
                          .values(description="Indigo slim jeans"))
    return board


@pytest.fixture
def planner(client, uow_factory):
    return log_in(client, uow_factory, "planner")


def _ids_in_order(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="s-(\d+)"', html)]


def test_each_row_shows_stock_orders_returns_forecast_cover_lead_time_and_supplier(
        client, board, planner):
    html = _page(client)
    for heading in ("On hand", "On order", "Returns expected back",
                    "Forecast over lead time + review", "Weeks of cover before",
                    "Weeks of cover after", "Lead time (weeks)", "Supplier", "Last decision"):
        assert f">{heading}" in html, heading
    cells = re.findall(r"<td[^>]*>(.*?)</td>", _row(html, board.ids["TEE-BLK/M"]), re.S)
    texts = [re.sub(r"<[^>]+>", "", c).strip() for c in cells]
    # sku, size, location, supplier, on hand, on order, returns, forecast, cover, lead time
    assert texts[1:12] == ["TEE-BLK", "M", "WH1", "ACME", "15", "3", "6", "40", "2", "5.5",
                           "3"]


def test_search_finds_a_sku_or_description_by_its_start_whatever_the_case(
        client, board, planner):
    assert set(_ids_in_order(_page(client, "/planner?search=tee-b"))) == {
        board.ids[k] for k in ("TEE-BLK/S", "TEE-BLK/M", "TEE-BLK/L")}
    assert _ids_in_order(_page(client, "/planner?search=INDIGO")) == [board.ids["JEAN-IND/32"]]
    assert _ids_in_order(_page(client, "/planner?search=blk")) == []  # a prefix, not inside
    assert _ids_in_order(_page(client, "/planner?search=%25")) == []  # % is a character


def test_supplier_and_location_filters_narrow_the_table(client, board, planner):
    assert _ids_in_order(_page(client, "/planner?supplier=DENIMCO")) == [
        board.ids["JEAN-IND/32"]]
    assert _ids_in_order(_page(client, "/planner?location=WH2&supplier=SOCKCO")) == [
        board.ids["SOCK-WHT/OS"]]


def test_the_export_holds_exactly_the_columns_and_rows_shown_in_their_order(
        client, board, planner):
    query = "category=tops&sort=sku,-suggested_qty"
    shown = _ids_in_order(_page(client, f"/planner?{query}"))
    answer = client.get(f"/planner/export.csv?{query}")
    assert answer.status_code == 200
    assert "attachment" in answer.headers["Content-Disposition"]
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"  # said once
    rows = list(csv.reader(io.StringIO(answer.get_data().decode("utf-8-sig"))))
    assert rows[0][:5] == ["SKU", "Size", "Location", "Supplier", "On hand"]
    assert [r[1] for r in rows[1:]] == ["M", "L", "S"]  # 30, 18, 12 units: as the page
    assert len(rows) - 1 == len(shown) == 3
    book = load_workbook(io.BytesIO(client.get(f"/planner/export.xlsx?{query}").get_data()))
    sheet = list(book.active.values)
    assert list(sheet[0]) == rows[0]
    medium = sheet[1]
    assert medium[rows[0].index("Suggested")] == 30
    assert medium[rows[0].index("Weeks of cover after")] == 5.5


def test_every_column_exports_with_its_figures_worked_out_from_the_terms(
        client, uow_factory, db, board, planner):
    from returns_inventory.services.suggestion_decisions import decide_suggestion
    from returns_inventory.web.planner_columns import ALL

    decide_suggestion(uow_factory, board.ids["TEE-BLK/M"], action="approve", actor="user:ann")
    db.connection.execute(update(items).where(items.c.id == board.item_ids["TEE-BLK/M"])
                          .values(description="=HYPERLINK(1)"))
    page = _page(client, "/planner/columns")
    keys = [c.key for c in ALL]
    chose = client.post("/planner/columns", data={
        "csrf_token": hidden(page, "csrf_token"), "columns": keys,
        **{f"position-{k}": str(n) for n, k in enumerate(keys)}})
    assert chose.status_code == 303
    text = client.get("/planner/export.csv?sort=sku").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [c.heading for c in ALL]
    cells = {(r[0], r[2]): dict(zip(keys, r, strict=True)) for r in rows[1:]}
    medium = cells[("TEE-BLK", "M")]
    # The hand-worked order (TERMS): what the table shows, read only from what was exported.
    assert {k: medium[k] for k in ("on_hand", "on_order", "returns_back", "forecast",
                                   "cover_before", "cover_after", "suggested_qty",
                                   "approved_qty", "status")} == {
        "on_hand": "15.0", "on_order": "3.0", "returns_back": "6.0", "forecast": "40.0",
        "cover_before": "2.0", "cover_after": "5.5", "suggested_qty": "30",
        "approved_qty": "30", "status": "approved"}
    assert medium["lead_time"] and medium["location"] == "WH1"
    assert medium["description"] == "'=HYPERLINK(1)"  # text, never a formula
    assert medium["last_decision"].startswith("approved by ann at ")
    assert cells[("JEAN-IND", "32")]["description"] == "Indigo slim jeans"
    assert cells[("JEAN-IND", "32")]["last_decision"] == ""


def test_a_refused_filter_keeps_what_the_planner_typed_and_never_claims_no_run_succeeded(
        client, board, planner):
    answer = client.get("/planner?supplier=DENIMCO&min_quantity=abc")
    assert answer.status_code == 422
    words = _words(answer)
    assert "Minimum quantity: Not a valid integer." in words
    assert "No forecast run has succeeded" not in words  # one has: the filter was refused
    html = answer.get_data(as_text=True)
    assert re.search(r'id="f-supplier"[^>]*value="DENIMCO"', html)  # nothing typed is lost
    field = re.search(r'<input id="f-min-quantity"[^>]*>', html).group(0)
    assert 'value="abc"' in field and 'aria-invalid="true"' in field
    gone = client.get("/planner?run=999999&sku=TEE-BLK")  # a bookmarked run since removed
    assert gone.status_code == 404
    assert "No forecast run has succeeded" not in _words(gone)
    assert re.search(r'id="f-sku"[^>]*value="TEE-BLK"', gone.get_data(as_text=True))


def test_an_unknown_filter_name_is_refused_in_words_instead_of_listing_everything(
        client, board, planner):
    answer = client.get("/planner?suplier=DENIMCO&sku=TEE-BLK")
    assert answer.status_code == 422
    words = _words(answer)
    assert "There is no filter “suplier”" in words
    assert "The filters are: run, search, status, category, supplier, sku," in words
    html = answer.get_data(as_text=True)
    assert 'id="s-' not in html  # no row: the whole plan is not passed off as filtered
    assert re.search(r'id="f-sku"[^>]*value="TEE-BLK"', html)  # the known filter is kept
    exported = client.get("/planner/export.csv?suplier=DENIMCO")
    assert exported.status_code == 422 and "no filter" in exported.get_data(as_text=True)
    # What the table's own links carry is not refused.
    assert client.get("/planner?sku=TEE-BLK&sort=sku&page=1").status_code == 200


def test_chosen_columns_are_remembered_for_that_planner_only(
        app, client, uow_factory, board, planner):
    page = _page(client, "/planner/columns")
    answer = client.post("/planner/columns", data={
        "csrf_token": hidden(page, "csrf_token"), "columns": ["value", "sku", "on_hand"],
        "position-value": "1", "position-sku": "2", "position-on_hand": "3"})
    assert answer.status_code == 303
    html = _page(client)
    headings = re.findall(r'<th scope="col"[^>]*class="col-([a-z_]+)"', html)
    assert headings == ["value", "sku", "on_hand"]
    exported = client.get("/planner/export.csv").get_data().decode("utf-8-sig")
    assert exported.splitlines()[0] == "Value,SKU,On hand"
    olga = app.test_client()
    log_in(olga, uow_factory, "planner", username="olga")
    assert "col-on_order" in _page(olga)  # olga still has the default columns


def test_an_unknown_column_is_refused_in_words_and_nothing_is_saved(client, board, planner):
    page = _page(client, "/planner/columns")
    answer = client.post("/planner/columns", data={
        "csrf_token": hidden(page, "csrf_token"), "columns": ["sku", "password"]})
    assert answer.status_code == 422
    assert "unknown column" in answer.get_data(as_text=True)
    assert "col-on_order" in _page(client)


def test_next_and_previous_follow_the_filtered_sorted_table(client, board, planner):
    ids = [board.ids[k] for k in ("TEE-BLK/M", "TEE-BLK/L", "TEE-BLK/S")]  # by -suggested
    html = _page(client, f"/planner/suggestions/{ids[1]}?category=tops&sort=-suggested_qty")
    previous = re.search(r'href="([^"]+)" rel="prev"', html).group(1)
    following = re.search(r'href="([^"]+)" rel="next"', html).group(1)
    assert previous.startswith(f"/planner/suggestions/{ids[0]}?")
    assert following.startswith(f"/planner/suggestions/{ids[2]}?")
    assert "category=tops" in following and "2 of 3" in html
    last = _page(client, following.replace("&amp;", "&"))
    assert 'rel="next"' not in last


def test_a_decision_is_reopened_as_a_decision_with_an_event_for_the_erp(
        client, uow_factory, db, board, planner):
    medium = board.ids["TEE-BLK/M"]
    html = _page(client)
    assert _decide(client, medium, html, action="approve").status_code == 303
    html = _page(client)
    reopen = re.search(rf'action="/planner/suggestions/{medium}/reopen".*?</form>',
                       html, re.S).group(0)
    answer = client.post(f"/planner/suggestions/{medium}/reopen", data={
        "csrf_token": hidden(html, "csrf_token"), "back": "/planner",
        "version": re.search(r'name="version" value="(\d+)"', reopen).group(1)})
    assert answer.status_code == 303
    row = db.connection.execute(select(rs).where(rs.c.id == medium)).one()
    assert (row.status, row.approved_qty, row.decided_by) == ("proposed", None, None)
    assert [d["action"] for d in _decisions(uow_factory, medium)] == ["approve", "reopen"]
    events = db.connection.execute(select(outbox_events.c.event_type, outbox_events.c.payload)
                                   .order_by(outbox_events.c.id)).all()
    assert [e.event_type for e in events][-2:] == ["replenishment.approved",
                                                   "replenishment.reopened"]
    assert events[-1].payload["was"] == "approved"
    assert events[-1].payload["suggestion_id"] == medium


def test_an_approval_the_export_has_served_cannot_be_reopened(
        client, uow_factory, db, board, planner, auth):
    medium = board.ids["TEE-BLK/M"]
    assert _decide(client, medium, _page(client), action="approve").status_code == 303
    served = client.get("/api/v1/replenishment/exports", headers=auth("integrator"))
    assert served.status_code == 200
    html = _page(client)
    assert f"/planner/suggestions/{medium}/reopen" not in html
    version = db.connection.execute(select(rs.c.version).where(rs.c.id == medium)).scalar()
    answer = client.post(f"/planner/suggestions/{medium}/reopen", data={
        "csrf_token": hidden(html, "csrf_token"), "back": "/planner", "version": version})
    assert answer.status_code == 409
    assert "already served it to the ERP" in answer.get_data(as_text=True)
    assert db.connection.execute(select(rs.c.status).where(rs.c.id == medium)).scalar() \
        == "approved"


def test_a_bulk_reject_can_be_reopened_in_bulk_after_confirming(
        client, uow_factory, db, board, planner):
    html = _page(client, "/planner?category=tops")
    form = {"csrf_token": hidden(html, "csrf_token"), "back": "/planner?category=tops",
            "category": "tops", "run": str(board.run_id)}
    confirm(client, client.post("/planner/decisions", data={**form, "do": "reject-matching"}))
    tops = [board.ids[k] for k in ("TEE-BLK/S", "TEE-BLK/M", "TEE-BLK/L")]
    status = select(rs.c.status).where(rs.c.id.in_(tops))
    assert set(db.connection.execute(status).scalars()) == {"rejected"}
    asked = client.post("/planner/decisions", data={**form, "do": "reopen-matching"})
    assert "This will reopen 3 lines" in _words(asked)
    done = confirm(client, asked)
    assert "Reopened 3 of 3 matching suggestions." in client.get(
        done.headers["Location"]).get_data(as_text=True)
    assert set(db.connection.execute(status).scalars()) == {"proposed"}
    kinds = db.connection.execute(select(outbox_events.c.event_type)).scalars().all()
    assert kinds.count("replenishment.reopened") == 3


def test_the_suggestion_page_shows_shares_as_percentages_and_never_minus_zero(
        client, board, planner):
    html = _page(client, f"/planner/suggestions/{board.ids['TEE-BLK/M']}")
    terms = re.search(r'<table class="terms">.*?</table>', html, re.S).group(0)
    assert re.search(r"service level</th>\s*<td class=\"num\">98 %</td>", terms)
    assert "−0" not in terms and "-0" not in terms


def test_the_api_reopens_decisions_by_ids_once_even_when_the_request_is_sent_twice(
        client, auth, db, board):
    ids = [board.ids["TEE-BLK/S"], board.ids["JEAN-IND/32"]]
    decided = client.post("/api/v1/replenishment/suggestions/decisions", headers=auth("planner"),
                          json={"action": "approve", "ids": ids})
    assert decided.status_code == 200 and decided.json["decided"] == 2
    url = "/api/v1/replenishment/suggestions/reopen"
    first = client.post(url, headers=auth("planner"), json={"ids": ids, "comment": "wrong day"})
    assert first.status_code == 200, first.json
    assert first.json == {"matched": 2, "reopened": 2, "skipped": 0}
    again = client.post(url, headers=auth("planner"), json={"ids": ids})
    assert again.json == {"matched": 2, "reopened": 0, "skipped": 2}
    kinds = db.connection.execute(select(outbox_events.c.event_type)).scalars().all()
    assert kinds.count("replenishment.reopened") == 2
    bad = client.post(url, headers=auth("planner"), json={"ids": ids, "filter": {}})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json["errors"]] == ["filter"]


def test_the_export_of_decided_rows_holds_exactly_the_rows_of_those_statuses(
        client, uow_factory, board, planner):
    from returns_inventory.services.suggestion_decisions import decide_suggestion

    for key, action in (("TEE-BLK/M", "approve"), ("SOCK-WHT/OS", "approve"),
                        ("JEAN-IND/32", "reject")):
        decide_suggestion(uow_factory, board.ids[key], action=action, actor="user:ann")

    def exported(query: str) -> list[tuple[str, str]]:
        text = client.get(f"/planner/export.csv?{query}").get_data().decode("utf-8-sig")
        return [(r[0], r[1]) for r in list(csv.reader(io.StringIO(text)))[1:]]

    assert exported("status=approved&sort=sku") == [("SOCK-WHT", "OS"), ("TEE-BLK", "M")]
    assert exported("status=approved&status=rejected&sort=sku") == [
        ("JEAN-IND", "32"), ("SOCK-WHT", "OS"), ("TEE-BLK", "M")]
    assert exported("status=approved&supplier=SOCKCO") == [("SOCK-WHT", "OS")]


# Terms as a run may leave them: numbers written every way JSON allows, and keys holding
# something other than a number (the figures then show nothing for them).
ODD_TERMS = [
    {"protection_weeks": 3, "gross_demand": 1e3, "expected_returns": 0.1, "on_hand": -0,
     "on_order": -0.0, "inventory_position": 12345678901234567890.5},
    {"protection_weeks": "4", "gross_demand": True, "expected_returns": None,
     "on_hand": "15", "on_order": [1], "inventory_position": 2.675},
    {"on_hand": {"units": 3}, "on_order": False, "expected_returns": "null"},
    {},
]


def test_the_table_export_writes_the_same_bytes_as_from_every_row_read_whole(
        uow_factory, db, board):
    """The export reads only the terms its figures need (on PostgreSQL, each as its own JSON
    text through the driver's cursor): it must write what the rows read whole would give."""
    from returns_inventory.services.suggestion_decisions import decide_suggestion
    from returns_inventory.services.suggestions import parse_sort, suggestion_filter, table_rows
    from returns_inventory.web.planner_columns import ALL, DEFAULT, csv_bytes, fields_of

    decide_suggestion(uow_factory, board.ids["TEE-BLK/M"], action="approve", actor="user:ann")
    decide_suggestion(uow_factory, board.ids["JEAN-IND/32"], action="reject", actor="ann")
    others = [board.ids[k] for k in ("TEE-BLK/S", "TEE-BLK/L", "SOCK-WHT/OS", "JEAN-IND/32")]
    for suggestion_id, terms in zip(others, ODD_TERMS, strict=True):
        db.connection.execute(update(rs).where(rs.c.id == suggestion_id).values(terms=terms))
    db.connection.execute(update(items).where(items.c.id == board.item_ids["SOCK-WHT/OS"])
                          .values(description="-minus, \"quoted\"\nand on two lines"))
    every = [c.key for c in ALL]
    for keys, args in ((list(DEFAULT), {}), (every, {"sort": "sku,-suggested_qty"}),
                       (every, {"status": ["approved", "rejected"], "sort": "-value"}),
                       (["sku", "last_decision", "cover_after"], {"category": "tops"}),
                       (["sku", "size"], {"sort": "decided_at"})):
        names = fields_of(keys)
        with uow_factory() as uow:
            where = suggestion_filter(uow, args)
            whole = uow.suggestions.page(where, order=parse_sort(args.get("sort")), offset=0,
                                         limit=50_000, names=names)
        read = table_rows(uow_factory, args, limit=50_000, names=names)["data"]
        assert len(whole) >= 1 and len(read) == len(whole)
        assert csv_bytes(read, keys) == csv_bytes(whole, keys), (keys, args)
