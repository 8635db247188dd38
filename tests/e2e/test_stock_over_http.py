"""Stock adjustments over HTTP: the ledger records them, retries apply once, the CLI agrees."""

from __future__ import annotations

import pytest


@pytest.fixture
def catalogue(shop):
    """(sku, size, location) of an item and a warehouse imported over HTTP."""
    return shop["sku"], "M", shop["warehouse"]


def _adjustment(sku, size, location, quantity, reason="cycle count"):
    return {"sku": sku, "size": size, "location": location, "quantity": quantity, "reason": reason}


def test_an_adjustment_shows_on_the_stock_and_the_ledger_and_the_ledger_verifies(
    live_server, catalogue
):
    sku, size, location = catalogue
    response = live_server.post(
        "/api/v1/stock/adjustments", json=_adjustment(sku, size, location, 12)
    )
    assert response.status_code == 201, response.text
    assert (response.json()["on_hand"], response.json()["available"]) == (12, 12)

    stock = live_server.get("/api/v1/stock", params={"sku": sku}).json()
    assert [(b["location"], b["on_hand"]) for b in stock["data"]] == [(location, 12)]

    ledger = live_server.get("/api/v1/ledger", params={"sku": sku}).json()
    [movement] = ledger["data"]
    assert (movement["quantity"], movement["reason"]) == (12, "cycle count")
    assert movement["actor"]

    result = live_server.cli("verify-ledger")
    assert "ledger ok" in result.stdout


def test_taking_more_than_is_available_answers_409_and_changes_nothing(live_server, catalogue):
    sku, size, location = catalogue
    live_server.post("/api/v1/stock/adjustments", json=_adjustment(sku, size, location, 2))
    response = live_server.post(
        "/api/v1/stock/adjustments", json=_adjustment(sku, size, location, -3)
    )
    assert response.status_code == 409
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert len(live_server.get("/api/v1/ledger", params={"sku": sku}).json()["data"]) == 1


def test_a_retry_with_the_same_idempotency_key_is_applied_once(live_server, catalogue, unique):
    sku, size, location = catalogue
    headers = live_server.headers(**{"Idempotency-Key": unique("retry")})
    body = _adjustment(sku, size, location, 5)

    first = live_server.post("/api/v1/stock/adjustments", json=body, headers=headers)
    again = live_server.post("/api/v1/stock/adjustments", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(live_server.get("/api/v1/ledger", params={"sku": sku}).json()["data"]) == 1
    [balance] = live_server.get("/api/v1/stock", params={"sku": sku}).json()["data"]
    assert balance["on_hand"] == 5


def test_the_same_idempotency_key_with_another_body_is_refused(live_server, catalogue, unique):
    sku, size, location = catalogue
    headers = live_server.headers(**{"Idempotency-Key": unique("reuse")})
    live_server.post(
        "/api/v1/stock/adjustments", json=_adjustment(sku, size, location, 5), headers=headers
    )
    response = live_server.post(
        "/api/v1/stock/adjustments", json=_adjustment(sku, size, location, 6), headers=headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    [balance] = live_server.get("/api/v1/stock", params={"sku": sku}).json()["data"]
    assert balance["on_hand"] == 5
