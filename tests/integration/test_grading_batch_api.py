"""Grading a tote of units in one request: all of them, in the order given, or none."""

from __future__ import annotations

import pytest

from returns_inventory.services.stock import verify_ledger
from tests.factories import add_item, add_location, add_sale


@pytest.fixture
def units(client, auth, uow_factory):
    """Four received units of one order, waiting in quarantine at WH1."""
    jeans = add_item(uow_factory, "JEANS-IND", "32", unit_cost="20.00")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, jeans, location_id, order_ref="SO-9", line_ref="A", quantity=4)
    erp, grader = auth("integrator"), auth("grader")
    rma = client.post("/api/v1/returns", headers=erp, json={
        "order_ref": "SO-9",
        "lines": [{"line_ref": "A", "quantity": 4, "reason": "too_small"}]}).json["rma"]
    received = client.post(f"/api/v1/returns/{rma}/receipts", headers=grader,
                           json={"location": "WH1", "lines": [{"line_no": 1, "quantity": 4}]})
    assert received.status_code == 201, received.json
    return [u["unit_id"] for u in received.json["units"]]


def _stock(client, headers) -> dict[str, int]:
    rows = client.get("/api/v1/stock?sku=JEANS-IND", headers=headers).json["data"]
    return {r["condition"]: r["on_hand"] for r in rows if r["on_hand"]}


def _events(client, headers) -> list[str]:
    return [e["type"] for e in
            client.get("/api/v1/events?after=0&limit=500", headers=headers).json["data"]]


def test_a_tote_is_graded_in_one_request_each_unit_to_its_disposition(
        client, auth, units, uow_factory):
    grader = auth("grader")
    grades = [{"unit_id": units[0], "grade": "A"},
              {"unit_id": units[1], "grade": "B", "defects": ["stain"], "note": "small mark"},
              {"unit_id": units[2], "grade": "C", "defects": ["broken_zipper"]}]
    answer = client.post("/api/v1/units/grades", headers=grader, json={"grades": grades})
    assert answer.status_code == 200, answer.json
    graded = answer.json["graded"]
    assert [g["unit_id"] for g in graded] == units[:3]
    assert [g["condition"] for g in graded] == ["sellable", "second_quality", "repair"]
    assert all(g["where_to_put"] for g in graded)
    assert _stock(client, grader) == {
        "quarantine": 1, "sellable": 1, "second_quality": 1, "repair": 1}
    assert _events(client, auth("integrator")).count("unit.graded") == 3
    note = client.get(f"/api/v1/units/{units[1]}", headers=grader).json
    assert note["grade"] == "B" and note["defects"] == ["stain"]
    [record] = note["history"]
    assert (record["grade"], record["disposition"], record["note"]) == (
        "B", "restock_second_quality", "small mark")
    assert verify_ledger(uow_factory) == []


def test_a_tote_holding_a_unit_already_graded_grades_none_and_names_the_entry(
        client, auth, units):
    grader = auth("grader")
    client.post(f"/api/v1/units/{units[1]}/grade", headers=grader, json={"grade": "A"})
    before = _events(client, auth("integrator"))
    answer = client.post("/api/v1/units/grades", headers=grader, json={"grades": [
        {"unit_id": units[0], "grade": "A"}, {"unit_id": units[1], "grade": "B"}]})
    assert answer.status_code == 409
    assert answer.mimetype == "application/problem+json"
    assert answer.json["errors"] == [
        {"field": "grades.1.unit_id", "reason": "already graded (restocked)"}]
    assert client.get(f"/api/v1/units/{units[0]}", headers=grader).json["status"] == (
        "awaiting_grading")
    assert _events(client, auth("integrator")) == before
    assert _stock(client, grader) == {"quarantine": 3, "sellable": 1}


@pytest.mark.parametrize(("entry", "field"), [
    ({"grade": "E"}, "grades.1.grade"),
    ({"grade": "B", "defects": ["glitter"]}, "grades.1.defects"),
    ({"grade": "B", "unit_id": "UNKNOWN"}, "grades.1.unit_id"),
    ({"grade": "B", "same_as_first": True}, "grades.1.unit_id"),
])
def test_a_bad_entry_refuses_the_whole_tote_naming_its_field(client, auth, units, entry, field):
    grader = auth("grader")
    entry = dict(entry)
    second = units[0] if entry.pop("same_as_first", False) else units[1]
    answer = client.post("/api/v1/units/grades", headers=grader, json={"grades": [
        {"unit_id": units[0], "grade": "A"}, {"unit_id": second, **entry}]})
    assert answer.status_code in (404, 422), answer.json
    assert [e["field"] for e in answer.json["errors"]] == [field]
    assert _stock(client, grader) == {"quarantine": 4}


def test_an_empty_or_oversized_tote_is_refused(client, auth, units):
    grader = auth("grader")
    empty = client.post("/api/v1/units/grades", headers=grader, json={"grades": []})
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "grades"
    huge = [{"unit_id": f"U{n}", "grade": "A"} for n in range(201)]
    oversized = client.post("/api/v1/units/grades", headers=grader, json={"grades": huge})
    assert oversized.status_code == 422 and oversized.json["errors"][0]["field"] == "grades"


def test_a_planner_may_not_grade_a_tote(client, auth, units):
    answer = client.post("/api/v1/units/grades", headers=auth("planner"),
                         json={"grades": [{"unit_id": units[0], "grade": "A"}]})
    assert answer.status_code == 403
