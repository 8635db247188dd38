"""Planners approve, edit and reject suggestions; decisions are audited and announced."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from returns_inventory.persistence.planning_tables import suggestion_decisions
from returns_inventory.persistence.tables import outbox_events
from tests.integration.suggestion_data import AS_OF

URL = "/api/v1/replenishment/suggestions"
ANA = "token:ana"  # how a bearer token named "ana" signs its work


def _decide(client, headers, suggestion_id, **body):
    return client.post(f"{URL}/{suggestion_id}/decision", headers=headers, json=body)


def _audit(db, suggestion_id):
    return db.connection.execute(
        select(suggestion_decisions).where(suggestion_decisions.c.suggestion_id == suggestion_id)
        .order_by(suggestion_decisions.c.id)).all()


def _events(db, event_type):
    return [r.payload for r in db.connection.execute(
        select(outbox_events).where(outbox_events.c.event_type == event_type)
        .order_by(outbox_events.c.id))]


def test_approving_takes_the_suggested_quantity_audits_it_and_tells_the_erp(
        client, auth, board, db):
    medium = board.ids["TEE-BLK/M"]
    answer = _decide(client, auth("planner", "ana"), medium, action="approve", comment="ok")
    assert answer.status_code == 200, answer.json
    got = answer.json
    assert got["suggestion"]["status"] == "approved" and got["suggestion"]["approved_qty"] == 30
    assert got["suggestion"]["version"] == 2 and got["suggestion"]["decided_by"] == ANA
    assert got["decision"] == {"action": "approve", "quantity": 30, "comment": "ok",
                               "from_version": 1, "actor": ANA}
    assert got["case_pack"]["rounded_up"] is False and got["case_pack"]["cases"] == 5
    [audit] = _audit(db, medium)
    assert (audit.action, audit.quantity, audit.comment, audit.from_version, audit.actor) == (
        "approve", 30, "ok", 1, ANA)
    [event] = _events(db, "replenishment.approved")
    assert event == {
        "suggestion_id": medium, "run_id": board.run_id, "as_of": AS_OF.isoformat(),
        "sku": "TEE-BLK", "size": "M", "location": "WH1", "supplier": "ACME", "version": 2,
        "quantity": 30, "case_pack": 6, "cases": 5, "unit_cost": "8.50", "value": "255.00"}
    detail = client.get(f"{URL}/{medium}", headers=auth("planner")).json
    assert [d["action"] for d in detail["decisions"]] == ["approve"]


def test_an_approved_quantity_is_rounded_up_to_whole_case_packs_and_says_so(
        client, auth, board, db):
    answer = _decide(client, auth("planner"), board.ids["SOCK-WHT/OS"], action="approve",
                     quantity=25)
    assert answer.json["case_pack"] == {
        "requested": 25, "quantity": 36, "case_pack": 12, "cases": 3, "rounded_up": True,
        "note": "25 units rounded up to 36 (3 cases of 12)"}
    assert answer.json["suggestion"]["approved_qty"] == 36
    assert _events(db, "replenishment.approved")[0]["value"] == "54.00"


def test_an_edit_keeps_the_planners_quantity_waiting_and_approval_then_uses_it(
        client, auth, board, db):
    jeans, planner = board.ids["JEAN-IND/32"], auth("planner")
    edited = _decide(client, planner, jeans, action="edit", quantity=10, comment="promo")
    assert edited.status_code == 200, edited.json
    assert edited.json["suggestion"]["status"] == "edited"
    assert edited.json["suggestion"]["approved_qty"] == 12  # cases of 4
    assert _events(db, "replenishment.approved") == []
    approved = _decide(client, planner, jeans, action="approve", version=2)
    assert approved.json["suggestion"]["approved_qty"] == 12
    assert approved.json["suggestion"]["version"] == 3
    assert [a.action for a in _audit(db, jeans)] == ["edit", "approve"]
    assert _events(db, "replenishment.approved")[0]["quantity"] == 12


def test_rejecting_records_why_and_announces_the_rejection(client, auth, board, db):
    small = board.ids["TEE-BLK/S"]
    answer = _decide(client, auth("planner"), small, action="reject", comment="range ends")
    assert answer.json["suggestion"]["status"] == "rejected"
    assert answer.json["suggestion"]["comment"] == "range ends"
    assert answer.json["case_pack"] is None
    assert [a.action for a in _audit(db, small)] == ["reject"]
    [event] = _events(db, "replenishment.rejected")
    assert event["suggestion_id"] == small and event["was"] == "proposed"


def test_a_second_planner_with_a_stale_version_gets_409_naming_who_decided(
        client, auth, board, db):
    medium = board.ids["TEE-BLK/M"]
    assert _decide(client, auth("planner", "ana"), medium, action="approve",
                   version=1).status_code == 200
    late = _decide(client, auth("planner", "ben"), medium, action="reject", version=1)
    assert late.status_code == 409
    assert late.headers["Content-Type"] == "application/problem+json"
    assert late.json["decided_by"] == ANA and late.json["suggestion_status"] == "approved"
    assert late.json["current_version"] == 2 and late.json["decided_at"]
    assert f"approved by {ANA}" in late.json["detail"]
    unseen = _decide(client, auth("planner", "ben"), medium, action="reject")
    assert unseen.status_code == 409
    assert [a.actor for a in _audit(db, medium)] == [ANA]


def test_a_planner_who_saw_the_current_version_may_change_the_decision(
        client, auth, board, db):
    medium = board.ids["TEE-BLK/M"]
    _decide(client, auth("planner", "ana"), medium, action="approve")
    answer = _decide(client, auth("planner", "ben"), medium, action="reject", version=2)
    assert answer.status_code == 200, answer.json
    assert answer.json["suggestion"]["decided_by"] == "token:ben"
    assert answer.json["suggestion"]["approved_qty"] is None
    assert _events(db, "replenishment.rejected")[0]["was"] == "approved"


@pytest.mark.parametrize(("body", "field"), [
    ({"action": "edit"}, "quantity"),
    ({"action": "reject", "quantity": 6}, "quantity"),
    ({"action": "approve", "quantity": 0}, "quantity"),
    ({"action": "order"}, "action"),
])
def test_a_decision_that_makes_no_sense_is_a_validation_problem(
        client, auth, board, body, field):
    answer = _decide(client, auth("planner"), board.ids["TEE-BLK/M"], **body)
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == field


def test_a_superseded_suggestion_cannot_be_decided(client, auth, board):
    answer = _decide(client, auth("planner"), board.old_id, action="approve")
    assert answer.status_code == 409
    assert "newer forecast run" in answer.json["detail"]


def test_an_approved_suggestion_is_not_edited_back_into_waiting(client, auth, board):
    medium, planner = board.ids["TEE-BLK/M"], auth("planner")
    _decide(client, planner, medium, action="approve")
    answer = _decide(client, planner, medium, action="edit", quantity=12, version=2)
    assert answer.status_code == 409


def test_bulk_approval_of_a_filtered_set_decides_only_those_still_waiting(
        client, auth, board, db):
    planner = auth("planner", "ana")
    _decide(client, planner, board.ids["TEE-BLK/S"], action="reject")
    _decide(client, planner, board.ids["TEE-BLK/L"], action="edit", quantity=20)
    answer = client.post(f"{URL}/decisions", headers=planner, json={
        "action": "approve", "filter": {"sku": "TEE-BLK"}, "comment": "weekly buy"})
    assert answer.status_code == 200, answer.json
    assert answer.json == {"action": "approve", "matched": 3, "decided": 2, "skipped": 1,
                           "rounded_up": 0}
    rows = client.get(f"{URL}?sku=TEE-BLK&sort=size", headers=planner).json["data"]
    assert {r["size"]: (r["status"], r["approved_qty"]) for r in rows} == {
        "L": ("approved", 24), "M": ("approved", 30), "S": ("rejected", None)}
    approved = _events(db, "replenishment.approved")
    assert sorted(e["quantity"] for e in approved) == [24, 30]
    assert all(a.comment == "weekly buy" for a in _audit(db, board.ids["TEE-BLK/M"]))
    again = client.post(f"{URL}/decisions", headers=planner, json={
        "action": "approve", "filter": {"sku": "TEE-BLK"}})
    assert again.json["decided"] == 0 and again.json["skipped"] == 3


def test_bulk_rejection_by_ids(client, auth, board, db):
    ids = [board.ids["JEAN-IND/32"], board.ids["SOCK-WHT/OS"], board.old_id]
    answer = client.post(f"{URL}/decisions", headers=auth("planner"),
                         json={"action": "reject", "ids": ids})
    assert answer.json == {"action": "reject", "matched": 3, "decided": 2, "skipped": 1,
                           "rounded_up": 0}
    assert len(_events(db, "replenishment.rejected")) == 2


def test_bulk_needs_either_a_filter_or_ids(client, auth, board):
    both = client.post(f"{URL}/decisions", headers=auth("planner"),
                       json={"action": "approve", "filter": {}, "ids": [1]})
    neither = client.post(f"{URL}/decisions", headers=auth("planner"), json={"action": "reject"})
    assert both.status_code == neither.status_code == 422


def test_a_decision_written_against_a_version_someone_moved_past_changes_nothing(
        uow_factory, board):
    medium = board.ids["TEE-BLK/M"]
    with uow_factory() as uow:
        first = uow.suggestions.decide(medium, seen_version=1, status="approved",
                                       approved_qty=30, actor="ana", comment=None)
        second = uow.suggestions.decide(medium, seen_version=1, status="rejected",
                                        approved_qty=None, actor="ben", comment=None)
        row = uow.suggestions.one(medium)
    assert (first, second) == (True, False)
    assert (row["status"], row["decided_by"], row["version"]) == ("approved", "ana", 2)
