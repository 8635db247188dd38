"""Approved orders leave for the ERP grouped by supplier and location, as JSON or CSV."""

from __future__ import annotations

import base64
import csv
import io
import json

import pytest

from returns_inventory.persistence.tables import items, locations
from tests.integration.suggestion_data import AS_OF, build_board

URL = "/api/v1/replenishment/exports"


@pytest.fixture
def approved(client, auth, uow_factory):
    board = build_board(uow_factory)
    planner = auth("planner")
    decisions = {"TEE-BLK/M": {}, "TEE-BLK/S": {"quantity": 7}, "JEAN-IND/32": {},
                 "SOCK-WHT/OS": {}, "TEE-BLK/L": None}
    for key, extra in decisions.items():
        body = {"action": "reject"} if extra is None else {"action": "approve", **extra}
        answer = client.post(f"/api/v1/replenishment/suggestions/{board.ids[key]}/decision",
                             headers=planner, json=body)
        assert answer.status_code == 200, answer.json
    return board


def test_the_export_groups_approved_lines_by_supplier_and_location_in_case_packs(
        client, auth, approved):
    answer = client.get(URL, headers=auth("integrator"))
    assert answer.status_code == 200, answer.json
    export = answer.json
    assert export["run_id"] == approved.run_id and export["as_of"] == AS_OF.isoformat()
    orders = {(o["supplier"], o["location"]): o for o in export["orders"]}
    assert list(orders) == [("ACME", "WH1"), ("DENIMCO", "WH1"), ("SOCKCO", "WH2")]
    acme = orders[("ACME", "WH1")]
    assert [(line["sku"], line["size"], line["quantity"], line["cases"])
            for line in acme["lines"]] == [("TEE-BLK", "M", 30, 5), ("TEE-BLK", "S", 12, 2)]
    assert acme["lines"][0] | {"suggestion_id": 0} == {
        "suggestion_id": 0, "sku": "TEE-BLK", "size": "M", "quantity": 30, "case_pack": 6,
        "cases": 5, "unit_cost": "8.50", "value": "255.00", "quality_alert": []}
    assert (acme["units"], acme["cases"], acme["value"]) == (42, 7, "357.00")
    socks = orders[("SOCKCO", "WH2")]
    assert (socks["units"], socks["cases"], socks["value"]) == (24, 2, "36.00")


def _every_page(client, headers, path: str) -> list[dict]:
    """Follow the export's `next` links to the end, checking each page's Link header."""
    pages = []
    while path:
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, answer.json
        pages.append(answer.json)
        path = answer.json["page"]["next"]
        if path:
            assert answer.headers["Link"] == f'<{path}>; rel="next"'
            assert "limit=1" in path  # the next page keeps the query
    return pages


def test_the_export_pages_its_lines_by_cursor_with_whole_orders_totals(
        client, auth, approved):
    integrator = auth("integrator")
    whole = client.get(URL, headers=integrator).json
    assert whole["page"] == {"limit": 1000, "next_cursor": None, "next": None}
    pages = _every_page(client, integrator, f"{URL}?limit=1")
    assert len(pages) == 4
    lines = [(o["supplier"], line) for p in pages for o in p["orders"] for line in o["lines"]]
    assert lines == [(o["supplier"], line) for o in whole["orders"] for line in o["lines"]]
    # The first page holds one of ACME's two lines, and says the whole order's sums.
    [acme] = pages[0]["orders"]
    assert len(acme["lines"]) == 1
    assert (acme["units"], acme["cases"], acme["value"]) == (42, 7, "357.00")
    assert pages[-1]["page"]["next_cursor"] is None


def test_the_export_json_is_what_its_schema_documents(client, auth, approved, app):
    from returns_inventory.api.replenishment_schemas import OrderExport
    from returns_inventory.services.order_export import export_approved_orders
    from returns_inventory.services.suggestion_alerts import forget

    answer = client.get(f"{URL}?limit=3", headers=auth("integrator")).json
    with app.app_context():
        from returns_inventory.extensions import policies, uow_factory

        forget()
        export = export_approved_orders(uow_factory(), None, policies(), limit=3)
    page = {"limit": 3, "next_cursor": export["next_cursor"],
            "next": f"{URL}?limit=3&after={export['next_cursor']}"}
    assert answer == OrderExport().dump({**export, "page": page})


def test_an_export_cursor_from_elsewhere_is_a_validation_problem(client, auth, approved):
    cursor = client.get("/api/v1/replenishment/suggestions?limit=1",
                        headers=auth("planner")).json["page"]["next_cursor"]
    answer = client.get(f"{URL}?after={cursor}", headers=auth("integrator"))
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "after"


def test_the_export_as_csv_has_one_row_per_line_with_supplier_and_location(
        client, auth, approved):
    by_format = client.get(f"{URL}?format=csv&run={approved.run_id}",
                           headers=auth("integrator"))
    by_accept = client.get(URL, headers={**auth("integrator"), "Accept": "text/csv"})
    assert by_format.status_code == by_accept.status_code == 200
    assert by_format.mimetype == "text/csv"
    assert by_format.data == by_accept.data
    assert f"replenishment-run-{approved.run_id}.csv" in by_format.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(by_format.data.decode())))
    assert [(r["supplier"], r["location"], r["sku"], r["size"], r["quantity"], r["cases"])
            for r in rows] == [
        ("ACME", "WH1", "TEE-BLK", "M", "30", "5"), ("ACME", "WH1", "TEE-BLK", "S", "12", "2"),
        ("DENIMCO", "WH1", "JEAN-IND", "32", "8", "2"),
        ("SOCKCO", "WH2", "SOCK-WHT", "OS", "24", "2")]
    assert rows[0]["unit_cost"] == "8.50" and rows[0]["value"] == "255.00"


def test_a_csv_cell_that_would_run_as_a_spreadsheet_formula_is_written_as_text(
        client, auth, approved, db):
    db.connection.execute(items.update().where(items.c.sku == "SOCK-WHT")
                          .values(sku="=HYPERLINK(1)"))
    db.connection.execute(locations.update().where(locations.c.code == "WH2")
                          .values(code="@WH2"))
    text = client.get(f"{URL}?format=csv", headers=auth("integrator")).data.decode()
    [row] = [r for r in csv.DictReader(io.StringIO(text)) if r["size"] == "OS"]
    assert (row["sku"], row["location"]) == ("'=HYPERLINK(1)", "'@WH2")
    assert (row["quantity"], row["value"], row["quality_alert"]) == ("24", "36.00", "")


def test_the_csv_export_pages_by_cursor_when_given_a_limit(client, auth, approved):
    integrator = auth("integrator")
    whole = client.get(f"{URL}?format=csv", headers=integrator).data.decode().splitlines()
    first = client.get(f"{URL}?format=csv&limit=3", headers=integrator)
    following = first.headers["Link"].split(">")[0].lstrip("<")
    rest = client.get(following, headers=integrator)
    assert "Link" not in rest.headers
    pages = first.data.decode().splitlines() + rest.data.decode().splitlines()[1:]
    assert len(whole) == 5 and pages == whole  # the header and four lines, once each


def test_the_export_keeps_the_supplier_and_case_pack_an_approval_ordered_by(
        client, auth, approved, db):
    # After approval the ERP re-imports the item with another case pack and supplier.
    db.connection.execute(items.update().where(items.c.sku == "TEE-BLK", items.c.size == "S")
                          .values(case_pack=10, supplier="ACME2"))
    approval = next(e["payload"] for e in client.get(
        "/api/v1/events?type=replenishment.approved&limit=100", headers=auth()).json["data"]
        if e["payload"]["sku"] == "TEE-BLK" and e["payload"]["size"] == "S")
    orders = {(o["supplier"], o["location"]): o
              for o in client.get(URL, headers=auth("integrator")).json["orders"]}
    [line] = [ln for ln in orders[("ACME", "WH1")]["lines"] if ln["size"] == "S"]
    assert (approval["supplier"], approval["case_pack"], approval["cases"]) == ("ACME", 6, 2)
    assert (line["quantity"], line["case_pack"], line["cases"]) == (12, 6, 2)
    assert ("ACME2", "WH1") not in orders


def test_the_supplier_filter_finds_an_approval_by_the_supplier_it_was_ordered_from(
        client, auth, approved, db):
    # The ERP moves the whole TEE-BLK range to ACME2 after two sizes were approved (M, S)
    # and one rejected (L): a rejection orders nothing, so it follows the item.
    db.connection.execute(items.update().where(items.c.sku == "TEE-BLK")
                          .values(supplier="ACME2"))
    planner = auth("planner")

    def found(query: str) -> set[str]:
        answer = client.get(f"/api/v1/replenishment/suggestions?{query}", headers=planner)
        assert answer.status_code == 200, answer.json
        assert answer.json["page"]["total"] == len(answer.json["data"])
        return {f"{r['sku']}/{r['size']}" for r in answer.json["data"]}

    assert found("supplier=ACME") == {"TEE-BLK/M", "TEE-BLK/S"}
    assert found("supplier=ACME2") == {"TEE-BLK/L"}
    assert found("supplier=ACME&status=approved&sort=-value") == {"TEE-BLK/M", "TEE-BLK/S"}
    assert found("supplier=SOCKCO") == {"SOCK-WHT/OS"}


def test_an_earlier_run_without_approvals_exports_no_orders(client, auth, approved):
    answer = client.get(f"{URL}?run={approved.old_run_id}", headers=auth("planner"))
    assert answer.json["orders"] == []


def test_before_any_run_there_is_nothing_to_export(client, auth):
    answer = client.get(URL, headers=auth("integrator"))
    assert answer.status_code == 404


def test_the_export_follows_a_changed_approval_a_reopened_one_and_a_late_one(
        client, auth, approved):
    """The order of lines and each order's sums stay right when approvals change before the
    export: a quantity approved again, an approval reopened, a rejected line approved."""
    planner, integrator = auth("planner"), auth("integrator")
    decide = "/api/v1/replenishment/suggestions/{}/decision"
    medium = approved.ids["TEE-BLK/M"]
    seen = client.get(f"/api/v1/replenishment/suggestions/{medium}", headers=planner).json
    again = client.post(decide.format(medium), headers=planner,
                        json={"action": "approve", "quantity": 36, "version": seen["version"]})
    assert again.status_code == 200, again.json
    reopened = client.post("/api/v1/replenishment/suggestions/reopen", headers=planner,
                           json={"ids": [approved.ids["JEAN-IND/32"]]})
    assert reopened.json["reopened"] == 1, reopened.json
    large = approved.ids["TEE-BLK/L"]
    seen = client.get(f"/api/v1/replenishment/suggestions/{large}", headers=planner).json
    late = client.post(decide.format(large), headers=planner,
                       json={"action": "approve", "version": seen["version"]})
    assert late.status_code == 200, late.json

    pages = _every_page(client, integrator, f"{URL}?limit=1")
    lines = [(o["supplier"], o["location"], line["sku"], line["size"], line["quantity"])
             for p in pages for o in p["orders"] for line in o["lines"]]
    large_qty = late.json["decision"]["quantity"]
    assert lines == [("ACME", "WH1", "TEE-BLK", "L", large_qty),
                     ("ACME", "WH1", "TEE-BLK", "M", 36), ("ACME", "WH1", "TEE-BLK", "S", 12),
                     ("SOCKCO", "WH2", "SOCK-WHT", "OS", 24)]
    # Every page showing a line of an order says the whole order's sums, as they are now.
    whole = client.get(URL, headers=integrator).json
    acme_lines = whole["orders"][0]["lines"]
    sums = (sum(line["quantity"] for line in acme_lines),
            sum(line["cases"] for line in acme_lines),
            f"{sum(float(line['value']) for line in acme_lines):.2f}")
    assert sums[0] == large_qty + 36 + 12 and sums[2] == f"{(large_qty + 48) * 8.5:.2f}"
    for page in pages[:3]:
        [acme] = page["orders"]
        assert (acme["units"], acme["cases"], acme["value"]) == sums
    [socks] = pages[3]["orders"]
    assert (socks["units"], socks["cases"], socks["value"]) == (24, 2, "36.00")
    # The CSV lists the same lines in the same order.
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"{URL}?format=csv", headers=integrator).data.decode())))
    assert [(r["supplier"], r["location"], r["sku"], r["size"], int(r["quantity"]))
            for r in rows] == lines


def _cursor(sort: str, values: list) -> str:
    text = json.dumps({"s": sort, "v": values})
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("values", [
    ["ACME", "WH1", "TEE-BLK", "M", 10**20],  # past any id (SQLite could not bind it)
    [1, 2, 3, 4, "x"],                        # each value of the other kind
    ["ACME\x00", "WH1", "TEE-BLK", "M", 1],   # a NUL, which PostgreSQL's text refuses
])
def test_an_export_cursor_edited_by_hand_is_a_validation_problem_not_a_failure(
        client, auth, approved, values):
    answer = client.get(f"{URL}?after={_cursor('export', values)}",
                        headers=auth("integrator"))
    assert answer.status_code == 422, answer.json
    assert answer.json["errors"][0]["field"] == "after"
