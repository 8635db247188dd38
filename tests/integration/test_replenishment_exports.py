"""Approved orders leave for the ERP grouped by supplier and location, as JSON or CSV."""

from __future__ import annotations

import csv
import io

import pytest

from returns_inventory.persistence.tables import items
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
