"""Health checks, authentication and the OpenAPI document, as an ERP client sees them."""

from __future__ import annotations

import time

import requests


def test_health_checks_answer_without_a_token(live_server):
    assert requests.get(live_server.url("/healthz"), timeout=5).json() == {"status": "ok"}
    ready = requests.get(live_server.url("/readyz"), timeout=5)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_the_api_refuses_a_request_without_a_token_with_a_problem_document(live_server):
    response = requests.get(live_server.url("/api/v1/stock"), timeout=5)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    problem = response.json()
    assert problem["status"] == 401
    assert {"type", "title", "detail"} <= problem.keys()


def test_a_made_up_token_is_refused(live_server):
    response = live_server.get("/api/v1/stock", headers=live_server.headers("ri_not-a-token"))
    assert response.status_code == 401


def test_a_token_with_the_wrong_role_is_forbidden(live_server, unique):
    grader = live_server.cli("token", "create", "--name", unique("grader"), "--role", "grader")
    response = live_server.post(
        "/api/v1/stock/adjustments",
        headers=live_server.headers(grader.stdout.strip()),
        json={"sku": "X", "size": "M", "location": "WH1", "quantity": 1, "reason": "count"},
    )
    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_the_openapi_document_lists_stock_and_ledger(live_server):
    response = live_server.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/stock" in paths
    assert "/api/v1/stock/adjustments" in paths
    assert "/api/v1/ledger" in paths


def test_a_scrape_of_metrics_sums_every_gunicorn_worker_and_the_scheduler(live_server):
    """Requests land on either worker; the scrape, answered by one of them, counts them all."""
    from prometheus_client.parser import text_string_to_metric_families

    def scrape() -> dict:
        # A new connection each time, so the scrape too may be answered by either worker.
        answer = requests.get(live_server.url("/metrics"), headers=live_server.headers(),
                              timeout=10)
        assert answer.status_code == 200
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(answer.text)
                for s in family.samples}

    key = ("ri_http_request_duration_seconds_count",
           (("endpoint", "/healthz"), ("method", "GET"), ("status", "200")))
    before = scrape().get(key, 0)
    for _ in range(20):
        answer = requests.get(live_server.url("/healthz"), timeout=5)
        assert answer.headers["X-Request-Id"]
    samples = scrape()
    assert samples[key] == before + 20
    deadline = time.monotonic() + 30  # the scheduler ticks every second
    while ("ri_scheduler_last_tick_timestamp_seconds", ()) not in samples:
        assert time.monotonic() < deadline, "no tick of the scheduler process in the scrape"
        time.sleep(0.5)
        samples = scrape()
    assert requests.get(live_server.url("/metrics"), timeout=5).status_code == 401
