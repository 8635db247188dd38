"""Ids in URL paths that no row can have answer 404, never a server error.

PostgreSQL keeps most keys in 32-bit INTEGER columns: comparing one with 2,147,483,648 fails
in the database, so these are the PostgreSQL case (SQLite just finds nothing).
"""

from __future__ import annotations

import pytest

from tests.integration.web_support import log_in

PAST_32_BITS = 2**31
PAST_64_BITS = 2**63

# Each route with an id in its path, with a body it would accept, so only the id is at fault.
API_ROUTES = [
    ("patch", "/api/v1/webhooks/{}", {"active": False}),
    ("post", "/api/v1/exchanges/{}/reserve", None),
    ("post", "/api/v1/exchanges/{}/refund", None),
    ("post", "/api/v1/exchanges/{}/ship", None),
    ("post", "/api/v1/write-offs/{}/decision", {"approve": True}),
    ("get", "/api/v1/forecast-runs/{}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), API_ROUTES)
@pytest.mark.parametrize("number", [PAST_32_BITS, 2**31 - 1])
def test_an_api_id_no_row_can_have_is_a_404_problem(client, auth, method, path, body, number):
    response = getattr(client, method)(path.format(number), headers=auth(), json=body)
    assert response.status_code == 404, response.get_json()
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("number", [PAST_32_BITS, PAST_64_BITS])
def test_a_suggestion_id_is_checked_against_its_64_bit_key(client, auth, number):
    # Suggestions have 64-bit keys: an id past 32 bits is a real id that names no row yet.
    response = client.get(f"/api/v1/replenishment/suggestions/{number}", headers=auth())
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_the_documented_path_parameters_say_how_large_an_id_may_be(client, auth):
    spec = client.get("/api/v1/openapi.json", headers=auth()).get_json()

    def maximum(path, name):
        operation = next(iter(spec["paths"][path].values()))
        params = spec["paths"][path].get("parameters", []) + operation.get("parameters", [])
        return next(p["schema"]["maximum"] for p in params if p["name"] == name)

    assert maximum("/api/v1/webhooks/{webhook_id}", "webhook_id") == 2**31 - 1
    assert maximum("/api/v1/replenishment/suggestions/{suggestion_id}", "suggestion_id") == (
        2**63 - 1)


def test_a_page_id_no_row_can_have_is_not_found(client, uow_factory):
    log_in(client, uow_factory, "planner")
    for path in (f"/planner/runs/{PAST_32_BITS}", f"/planner/suggestions/{PAST_64_BITS}"):
        assert client.get(path).status_code == 404, path
