"""Grading takes a token this process remembers, yet a revoked token grades nothing, at once."""

from __future__ import annotations

import pytest

from returns_inventory.services.tokens import revoke_tokens
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
    # The first grade looks the token up; the next takes it from memory and confirms it.
    for unit_id in units[:2]:
        graded = client.post(f"/api/v1/units/{unit_id}/grade", headers=bench,
                             json={"grade": "A"})
        assert graded.status_code == 200, graded.json
    revoke_tokens(uow_factory, "bench-7")
    refused = client.post(f"/api/v1/units/{units[2]}/grade", headers=bench, json={"grade": "A"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.get_json()["status"] == 401
    assert _status(client, auth, units[2]) == "awaiting_grading"
    # Nor does it learn which units exist.
    unknown = client.post("/api/v1/units/NO-SUCH-UNIT/grade", headers=bench,
                          json={"grade": "A"})
    assert unknown.status_code == 401


def test_a_tote_sent_with_a_revoked_token_grades_none_of_its_units(client, auth, units,
                                                                   uow_factory):
    scanner = auth("grader", name="scanner-3")
    first = client.post("/api/v1/units/grades", headers=scanner,
                        json={"grades": [{"unit_id": units[0], "grade": "A"}]})
    assert first.status_code == 200, first.json
    revoke_tokens(uow_factory, "scanner-3")
    tote = {"grades": [{"unit_id": u, "grade": "B"} for u in units[1:]]}
    refused = client.post("/api/v1/units/grades", headers=scanner, json=tote)
    assert refused.status_code == 401
    assert [_status(client, auth, u) for u in units[1:]] == ["awaiting_grading"] * 2
