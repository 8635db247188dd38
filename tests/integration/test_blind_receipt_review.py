"""A supervisor reviews blind receipts: over the API and from the queue page (both databases)."""

from __future__ import annotations

import pytest

from returns_inventory.services.receiving import receive_blind
from tests.factories import add_item, add_location
from tests.integration.web_support import hidden, log_in


@pytest.fixture
def blind_units(uow_factory):
    """Two units of TEE-BLK M that came in a parcel without an RMA, flagged for review."""
    add_item(uow_factory, "TEE-BLK", "M")
    add_location(uow_factory, "WH1")
    received = receive_blind(uow_factory, sku="TEE-BLK", size="M", location="WH1", quantity=2,
                             actor="grader1", note="no slip in the parcel")
    return [u.unit_id for u in received]


def _flagged(client, headers) -> list[str]:
    answer = client.get("/api/v1/units?flagged_for_review=true", headers=headers)
    return [u["unit_id"] for u in answer.get_json()["data"]]


def test_a_reviewed_unit_leaves_the_list_keeps_the_finding_and_is_announced_once(
        client, auth, uow_factory, blind_units):
    admin = auth("admin")
    first, second = blind_units
    answer = client.post(f"/api/v1/units/{first}/review", headers=admin,
                         json={"note": "customer 4411, order SO-93"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["note"] == (
        "no slip in the parcel; reviewed by token:test-admin: customer 4411, order SO-93")
    assert _flagged(client, admin) == [second]
    again = client.post(f"/api/v1/units/{first}/review", headers=admin, json={})
    assert again.status_code == 409
    with uow_factory() as uow:
        events = uow.events.after(0, 100, "unit.reviewed")
    assert [(e.payload["unit_id"], e.payload["status"]) for e in events] == [
        (first, "awaiting_grading")]


def test_only_a_supervisor_reviews_and_an_unknown_unit_is_a_404(client, auth, blind_units):
    grader = auth("grader")
    assert client.post(f"/api/v1/units/{blind_units[0]}/review", headers=grader,
                       json={}).status_code == 403
    assert client.post("/api/v1/units/U-NOPE/review", headers=auth("admin"),
                       json={}).status_code == 404
    assert len(_flagged(client, grader)) == 2


def test_the_queue_page_lets_a_supervisor_mark_a_blind_receipt_reviewed(
        client, uow_factory, blind_units):
    log_in(client, uow_factory, "admin")
    page = client.get("/station/queue").get_data(as_text=True)
    assert page.count("Mark reviewed") == 2
    form = {"csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"),
            "note": "belongs to RMA-77"}
    url = f"/station/units/{blind_units[0]}/review"
    assert client.post(url, data=form).status_code == 303
    assert client.post(url, data=form).status_code == 303  # a double click reviews once
    after = client.get("/station/queue").get_data(as_text=True)
    assert f"Unit {blind_units[0]} reviewed" in after
    assert after.count("Mark reviewed") == 1
    assert "Blind receipts to review (1)" in after


def test_a_grader_sees_the_list_without_the_review_button(client, uow_factory, blind_units):
    log_in(client, uow_factory, "grader")
    page = client.get("/station/queue").get_data(as_text=True)
    assert "Blind receipts to review (2)" in page and "Mark reviewed" not in page
    assert client.post(f"/station/units/{blind_units[0]}/review",
                       data={"csrf_token": hidden(page, "csrf_token")}).status_code == 403
