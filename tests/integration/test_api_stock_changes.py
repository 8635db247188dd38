"""Changing stock over HTTP: adjustments, the ledger they leave, and Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from returns_inventory.domain.errors import Conflict
from returns_inventory.http.body import request_fingerprint
from returns_inventory.persistence.tables import idempotency_keys
from returns_inventory.persistence.uow import Fence, fenced
from returns_inventory.services.stock import adjust_stock, verify_ledger
from tests.factories import add_item, add_location

ADJUST = "/api/v1/stock/adjustments"


@pytest.fixture
def catalogue(uow_factory):
    add_location(uow_factory, "WH1")
    add_location(uow_factory, "ST1", type="store")
    add_item(uow_factory, "TEE-BLK", "M")
    add_item(uow_factory, "TEE-BLK", "L")


@pytest.fixture
def planner(auth):
    return auth("planner", name="anna")


def _adjustment(quantity=5, **changes):
    return {"sku": "TEE-BLK", "size": "M", "location": "WH1", "quantity": quantity,
            "reason": "cycle count", **changes}


def _ledger(client, headers, **params):
    response = client.get("/api/v1/ledger", headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.usefixtures("catalogue")
def test_an_adjustment_answers_the_new_balance_and_records_its_actor(client, planner):
    response = client.post(ADJUST, headers=planner, json=_adjustment(5, reference="CC-7"))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["on_hand"], body["reserved"], body["available"]) == (5, 0, 5)
    [movement] = _ledger(client, planner)["data"]
    assert movement["id"] == body["movement_id"]
    assert (movement["actor"], movement["reason"], movement["reference"]) == (
        "token:anna", "cycle count", "CC-7")
    assert (movement["movement_type"], movement["quantity"], movement["on_hand_after"]) == (
        "adjustment", 5, 5)


@pytest.mark.usefixtures("catalogue")
def test_taking_more_than_is_available_is_a_409_and_changes_nothing(client, planner, uow_factory):
    client.post(ADJUST, headers=planner, json=_adjustment(2))
    response = client.post(ADJUST, headers=planner, json=_adjustment(-3))
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["title"] == "Insufficient stock" and problem["available"] == 2
    assert len(_ledger(client, planner)["data"]) == 1
    assert verify_ledger(uow_factory) == []


@pytest.mark.usefixtures("catalogue")
def test_an_adjustment_past_the_largest_balance_is_a_422_and_changes_nothing(
        client, planner, uow_factory):
    client.post(ADJUST, headers=planner, json=_adjustment(10))
    response = client.post(ADJUST, headers=planner, json=_adjustment(2**31 - 1))
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "quantity"
    [movement] = _ledger(client, planner)["data"]
    assert movement["on_hand_after"] == 10
    assert verify_ledger(uow_factory) == []


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(("body", "field"), [
    (_adjustment(0), "quantity"),
    ({k: v for k, v in _adjustment().items() if k != "reason"}, "reason"),
    (_adjustment(condition="muddy"), "condition"),
    (_adjustment(colour="red"), "colour"),
])
def test_a_bad_adjustment_is_a_422_naming_the_field(client, planner, body, field):
    response = client.post(ADJUST, headers=planner, json=body)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(("change", "field"), [({"sku": "NOPE"}, "sku"),
                                               ({"location": "XX"}, "location")])
def test_adjusting_something_unknown_is_a_404(client, planner, change, field):
    response = client.post(ADJUST, headers=planner, json=_adjustment(**change))
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["field"] == field


@pytest.mark.usefixtures("catalogue")
def test_a_retry_with_the_same_key_and_body_replays_the_answer_and_applies_once(
    client, planner
):
    headers = {**planner, "Idempotency-Key": "adj-42"}
    first = client.post(ADJUST, headers=headers, json=_adjustment(5))
    again = client.post(ADJUST, headers=headers, json=_adjustment(5))
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    ledger = _ledger(client, planner)["data"]
    assert len(ledger) == 1 and ledger[0]["on_hand_after"] == 5


@pytest.mark.usefixtures("catalogue")
def test_the_same_key_with_a_different_body_is_a_422_and_applies_nothing(client, planner):
    headers = {**planner, "Idempotency-Key": "adj-43"}
    client.post(ADJUST, headers=headers, json=_adjustment(5))
    response = client.post(ADJUST, headers=headers, json=_adjustment(7))
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"field": "Idempotency-Key", "reason": "reused"}]
    assert [m["quantity"] for m in _ledger(client, planner)["data"]] == [5]


@pytest.mark.usefixtures("catalogue")
def test_a_key_reused_after_its_answer_was_purged_is_still_checked_against_the_ledger(
        client, planner, db):
    headers = {**planner, "Idempotency-Key": "adj-44"}
    first = client.post(ADJUST, headers=headers, json=_adjustment(3))
    db.connection.execute(idempotency_keys.delete())  # what the retention purge does later
    other = client.post(ADJUST, headers=headers, json=_adjustment(-2, reason="damaged"))
    assert other.status_code == 422
    assert other.get_json()["errors"] == [{"field": "Idempotency-Key", "reason": "reused"}]
    db.connection.execute(idempotency_keys.delete())
    late = client.post(ADJUST, headers=headers, json=_adjustment(3))
    assert late.status_code == 201 and late.headers["Idempotent-Replayed"] == "true"
    assert late.get_json() == first.get_json()
    assert [m["quantity"] for m in _ledger(client, planner)["data"]] == [3]


@pytest.mark.usefixtures("catalogue")
def test_a_key_whose_first_request_is_still_running_is_a_409(client, planner, uow_factory):
    with client.application.test_request_context(ADJUST, method="POST", json=_adjustment(5)):
        fingerprint = request_fingerprint()
    _first_attempt_claims(uow_factory, "adj-44", fingerprint)
    response = client.post(ADJUST, headers={**planner, "Idempotency-Key": "adj-44"},
                           json=_adjustment(5))
    assert response.status_code == 409
    assert response.get_json()["type"].endswith("/request-in-progress")
    assert _ledger(client, planner)["data"] == []


def _first_attempt_claims(uow_factory, key, fingerprint, *, minutes_ago=0) -> Fence:
    """What the first request leaves while it is being served (or after it died)."""
    fence = Fence("token:anna", key, "first-attempt")
    with uow_factory() as uow:
        uow.idempotency.claim(actor=fence.actor, key=key, method="POST", path=ADJUST,
                              request_hash=fingerprint, token=fence.token, lock_seconds=60)
        uow.connection.execute(
            idempotency_keys.update().where(idempotency_keys.c.key == key)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=minutes_ago)))
        uow.commit()
    return fence


def _adjust_as_the_first_attempt(uow_factory, fence, quantity=5):
    with fenced(fence):
        return adjust_stock(uow_factory, sku="TEE-BLK", size="M", location="WH1",
                            condition="sellable", quantity=quantity, reason="cycle count",
                            actor=fence.actor)


@pytest.mark.usefixtures("catalogue")
def test_a_slow_first_attempt_overtaken_by_its_retry_is_not_applied(
    client, planner, uow_factory
):
    with client.application.test_request_context(ADJUST, method="POST", json=_adjustment(5)):
        fingerprint = request_fingerprint()
    first = _first_attempt_claims(uow_factory, "adj-46", fingerprint, minutes_ago=5)
    # Quiet for longer than the lock: the retry takes the key over and is applied.
    retry = client.post(ADJUST, headers={**planner, "Idempotency-Key": "adj-46"},
                        json=_adjustment(5))
    assert retry.status_code == 201
    # The first attempt was only slow; when its work comes to commit, it is refused.
    with pytest.raises(Conflict):
        _adjust_as_the_first_attempt(uow_factory, first)
    assert [m["quantity"] for m in _ledger(client, planner)["data"]] == [5]


@pytest.mark.usefixtures("catalogue")
def test_a_retry_after_the_work_committed_but_the_answer_was_lost_applies_nothing(
    client, planner, uow_factory
):
    with client.application.test_request_context(ADJUST, method="POST", json=_adjustment(5)):
        fingerprint = request_fingerprint()
    first = _first_attempt_claims(uow_factory, "adj-47", fingerprint, minutes_ago=5)
    _adjust_as_the_first_attempt(uow_factory, first)  # then the process died
    retry = client.post(ADJUST, headers={**planner, "Idempotency-Key": "adj-47"},
                        json=_adjustment(5))
    assert retry.status_code == 409
    assert retry.get_json()["type"].endswith("/request-applied-answer-lost")
    assert [m["quantity"] for m in _ledger(client, planner)["data"]] == [5]


@pytest.mark.usefixtures("catalogue")
def test_a_retry_between_the_first_attempts_commit_and_its_answer_is_told_it_is_in_progress(
    client, planner, uow_factory
):
    with client.application.test_request_context(ADJUST, method="POST", json=_adjustment(5)):
        fingerprint = request_fingerprint()
    first = _first_attempt_claims(uow_factory, "adj-48", fingerprint)
    _adjust_as_the_first_attempt(uow_factory, first)  # its answer is about to be stored
    retry = client.post(ADJUST, headers={**planner, "Idempotency-Key": "adj-48"},
                        json=_adjustment(5))
    assert retry.status_code == 409
    assert retry.get_json()["type"].endswith("/request-in-progress")
    assert [m["quantity"] for m in _ledger(client, planner)["data"]] == [5]


@pytest.mark.usefixtures("catalogue")
def test_a_retry_after_the_first_attempt_failed_past_its_commit_is_told_the_answer_was_lost(
    client, planner, uow_factory
):
    with client.application.test_request_context(ADJUST, method="POST", json=_adjustment(5)):
        fingerprint = request_fingerprint()
    first = _first_attempt_claims(uow_factory, "adj-49", fingerprint)
    _adjust_as_the_first_attempt(uow_factory, first)
    with uow_factory() as uow:  # what a 500 after the commit leaves (api/idempotency.py)
        uow.idempotency.release(**first._asdict())
        uow.commit()
    retry = client.post(ADJUST, headers={**planner, "Idempotency-Key": "adj-49"},
                        json=_adjustment(5))
    assert retry.status_code == 409
    assert retry.get_json()["type"].endswith("/request-applied-answer-lost")
    assert [m["quantity"] for m in _ledger(client, planner)["data"]] == [5]


@pytest.mark.usefixtures("catalogue")
def test_keys_belong_to_their_token_so_two_clients_may_pick_the_same_one(client, auth):
    first = client.post(ADJUST, headers={**auth("planner", name="a"), "Idempotency-Key": "k"},
                        json=_adjustment(5))
    other = client.post(ADJUST, headers={**auth("planner", name="b"), "Idempotency-Key": "k"},
                        json=_adjustment(5))
    assert first.status_code == other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert other.get_json()["on_hand"] == 10


@pytest.mark.usefixtures("catalogue")
def test_a_refused_change_is_replayed_as_refused(client, planner):
    headers = {**planner, "Idempotency-Key": "adj-45"}
    first = client.post(ADJUST, headers=headers, json=_adjustment(-1))
    client.post(ADJUST, headers=planner, json=_adjustment(5))  # stock arrives meanwhile
    again = client.post(ADJUST, headers=headers, json=_adjustment(-1))
    assert first.status_code == again.status_code == 409
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.usefixtures("catalogue")
def test_the_ledger_pages_by_cursor_without_gaps_or_repeats(client, planner):
    for quantity in range(1, 6):
        client.post(ADJUST, headers=planner, json=_adjustment(quantity))
    ids, cursor = [], None
    while True:
        params = {"limit": 2} if cursor is None else {"limit": 2, "after": cursor}
        body = _ledger(client, planner, **params)
        ids += [m["id"] for m in body["data"]]
        cursor = body["page"]["next_cursor"]
        if cursor is None:
            break
    assert len(ids) == 5 and ids == sorted(ids) and len(set(ids)) == 5


@pytest.mark.usefixtures("catalogue")
def test_the_ledger_filters_by_item_location_type_reference_and_time(client, planner):
    client.post(ADJUST, headers=planner, json=_adjustment(3, reference="A"))
    client.post(ADJUST, headers=planner, json=_adjustment(2, size="L", reference="B"))
    client.post(ADJUST, headers=planner, json=_adjustment(1, location="ST1", reference="C"))

    def refs(**params):
        return [m["reference"] for m in _ledger(client, planner, **params)["data"]]

    assert refs(size="L") == ["B"]
    assert refs(sku="TEE-BLK", size="M") == ["A", "C"]
    assert refs(location="ST1") == ["C"]
    assert refs(reference="B") == ["B"]
    assert refs(movement_type="adjustment") == ["A", "B", "C"]
    assert refs(movement_type="sale") == []
    now = datetime.now(UTC)
    assert refs(since=(now - timedelta(hours=1)).isoformat()) == ["A", "B", "C"]
    assert refs(since=(now + timedelta(hours=1)).isoformat()) == []
    assert refs(until=(now - timedelta(hours=1)).isoformat()) == []
    # The same instants written in other zones: an ERP need not convert to UTC first.
    east, west = timezone(timedelta(hours=5)), timezone(timedelta(hours=-5))
    assert refs(since=(now - timedelta(hours=1)).astimezone(east).isoformat()) == ["A", "B", "C"]
    assert refs(until=(now + timedelta(hours=1)).astimezone(west).isoformat()) == ["A", "B", "C"]
    assert refs(since=(now + timedelta(hours=1)).astimezone(west).isoformat()) == []
    moved = datetime.fromisoformat(_ledger(client, planner)["data"][0]["created_at"])
    assert moved.utcoffset() == timedelta(0) and abs(moved - now) < timedelta(minutes=5)


@pytest.mark.parametrize("params", [{"movement_type": "adjustmnet"}, {"condition": "wet"},
                                    {"since": "yesterday"}, {"after": "abc"}])
def test_a_bad_ledger_filter_is_a_422_not_an_empty_page(client, planner, params):
    response = client.get("/api/v1/ledger", headers=planner, query_string=params)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == list(params)
