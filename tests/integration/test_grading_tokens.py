"""Grading takes a token this process remembers, yet a revoked token grades nothing, at once."""

from __future__ import annotations

import pytest

from returns_inventory.domain.errors import Unauthenticated
from returns_inventory.services.grading_batch import UnitGrade, checked_grades, grade_checked
from returns_inventory.services.tokens import create_token, revoke_tokens
from tests.factories import add_item, add_location, add_sale


@pytest.fixture
def units(client, auth, uow_factory):
    """Three received units of one order, waiting in quarantine at WH1."""
    tee = add_item(uow_factory, "TEE-GRN", "M")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, tee, location_id, order_ref="SO-7", line_ref="A", quantity=3)
    rma = client.post("/api/v1/returns", headers=auth("integrator"), json={
        "order_ref": "SO-7",
        "lines": [{"line_ref": "A", "quantity": 3, "reason": "too_small"}]}).json["rma"]
    received = client.post(f"/api/v1/returns/{rma}/receipts", headers=auth("grader"),
                           json={"location": "WH1", "lines": [{"line_no": 1, "quantity": 3}]})
    assert received.status_code == 201, received.json
    return [u["unit_id"] for u in received.json["units"]]


def _status(client, auth, unit_id: str) -> str:
    return client.get(f"/api/v1/units/{unit_id}", headers=auth("planner")).json["status"]


def test_a_grader_whose_token_is_revoked_cannot_grade_the_next_unit(client, auth, units,
                                                                    uow_factory):
    bench = auth("grader", name="bench-7")
    first = client.post(f"/api/v1/units/{units[0]}/grade", headers=bench, json={"grade": "A"})
    assert first.status_code == 200, first.json
    revoke_tokens(uow_factory, "bench-7")
    refused = client.post(f"/api/v1/units/{units[1]}/grade", headers=bench, json={"grade": "A"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.get_json()["status"] == 401
    assert _status(client, auth, units[1]) == "awaiting_grading"
    # Nor does it learn which units exist.
    unknown = client.post("/api/v1/units/NO-SUCH-UNIT/grade", headers=bench,
                          json={"grade": "A"})
    assert unknown.status_code == 401


def test_grades_sharing_a_transaction_grade_nothing_if_one_token_was_revoked(
        client, auth, units, uow_factory, policies):
    # One-unit grades arriving together share a transaction (services/grading_group.py);
    # if one of their tokens was revoked, none is graded there, and each is graded alone.
    kept = create_token(uow_factory, name="bench-1", role="grader")
    gone = create_token(uow_factory, name="bench-2", role="grader")
    revoke_tokens(uow_factory, "bench-2")
    together = checked_grades(policies, [UnitGrade(units[0], "A"), UnitGrade(units[1], "A")])
    with pytest.raises(Unauthenticated):
        grade_checked(uow_factory, policies, together,
                      actors=[("token:bench-1", False), ("token:bench-2", False)],
                      tokens_to_confirm=[kept.id, gone.id])
    assert _status(client, auth, units[0]) == "awaiting_grading"
    [graded] = grade_checked(uow_factory, policies, together[:1],
                             actors=[("token:bench-1", False)], tokens_to_confirm=[kept.id])
    assert graded.unit_id == units[0]
