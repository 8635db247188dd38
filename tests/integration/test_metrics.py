"""What an operator watches: /metrics, request ids, JSON request logs, /readyz's scheduler."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from returns_inventory.observability import JsonLines
from returns_inventory.services.grading import grade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale


def scrape(client, headers) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape by (name, sorted labels); parsing it is part of the test."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_an_admin_token(client, auth):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth("planner")).status_code == 403
    assert client.get("/metrics", headers=auth("admin")).status_code == 200


def test_requests_are_counted_by_endpoint_and_status_in_a_scrape_that_parses(client, auth):
    admin = auth("admin")
    key = dict(endpoint="/api/v1/items", method="GET", status="422")
    before = value(scrape(client, admin), "ri_http_request_duration_seconds_count", **key)
    assert client.get("/api/v1/items?colour=red", headers=admin).status_code == 422
    after = scrape(client, admin)
    assert value(after, "ri_http_request_duration_seconds_count", **key) == before + 1
    assert value(after, "ri_http_request_duration_seconds_bucket", le="+Inf", **key) == before + 1


def test_imports_are_counted_with_their_rows_and_failures(client, auth):
    admin = auth("admin")
    before = scrape(client, admin)
    ok = client.post("/api/v1/imports/locations", data="code,name,type\nW1,Main,warehouse\n",
                     headers={**auth("integrator"), "Content-Type": "text/csv"})
    bad = client.post("/api/v1/imports/locations", data="code,name,type\nW2,Main,castle\n",
                      headers={**auth("integrator"), "Content-Type": "text/csv"})
    assert (ok.status_code, bad.status_code) == (201, 422)
    after = scrape(client, admin)
    for name, grew_by in (("ri_import_rows_total", 1), ("ri_import_failures_total", 1),
                          ("ri_import_duration_seconds_count", 1)):
        assert value(after, name, kind="locations") == value(
            before, name, kind="locations") + grew_by, name


def test_grades_are_counted_by_the_disposition_they_went_to(client, auth, uow_factory):
    policies = Policies.from_settings(Settings.load(env={}))
    add_sale(uow_factory, add_item(uow_factory, "TEE", "M"), add_location(uow_factory, "WH1"),
             order_ref="SO-M", sold_on=date.today() - timedelta(days=3))
    view = authorize_return(uow_factory, policies, order_ref="SO-M", actor="test",
                            lines=[ReturnLineRequest("1", 1, "changed_mind")])
    [unit] = receive_units(uow_factory, rma=view.rma, location="WH1", actor="test",
                           lines=[{"line_no": 1, "quantity": 1}])
    key = dict(disposition="restock_sellable")
    before = value(scrape(client, auth("admin")), "ri_units_graded_total", **key)
    grade_unit(uow_factory, policies, unit_id=unit.unit_id, grade="A", actor="test")
    assert value(scrape(client, auth("admin")), "ri_units_graded_total", **key) == before + 1


def test_every_answer_carries_a_request_id_and_problems_repeat_it(client, auth):
    mine = client.get("/healthz", headers={"X-Request-Id": "erp-call-42"})
    assert mine.headers["X-Request-Id"] == "erp-call-42"
    generated = client.get("/healthz")
    assert len(generated.headers["X-Request-Id"]) == 32
    # An id that is not safe to log is replaced, not echoed.
    assert client.get("/healthz", headers={"X-Request-Id": "a b"}).headers[
        "X-Request-Id"] != "a b"
    refused = client.get("/api/v1/stock", headers={"X-Request-Id": "erp-call-43"})
    assert refused.status_code == 401
    assert refused.get_json()["request_id"] == "erp-call-43"
    missing = client.get("/api/v1/units/U-NOPE", headers=auth("admin"))
    assert missing.get_json()["request_id"] == missing.headers["X-Request-Id"]


def test_each_request_is_logged_as_one_json_line(client, auth):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("returns_inventory.requests")
    logger.addHandler(handler)
    try:
        client.get("/api/v1/stock", headers={**auth("planner", "ana"), "X-Request-Id": "r-1"})
    finally:
        logger.removeHandler(handler)
    [line] = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert {k: line[k] for k in ("method", "path", "status", "actor", "request_id")} == {
        "method": "GET", "path": "/api/v1/stock", "status": 200, "actor": "token:ana",
        "request_id": "r-1"}
    assert isinstance(line["ms"], float) and line["ts"].endswith("+00:00")


def test_readyz_reports_a_scheduler_whose_heartbeat_is_stale(client, uow_factory):
    assert client.get("/readyz").get_json()["scheduler"]["status"] == "never_seen"
    now = datetime.now(UTC)
    with uow_factory() as uow:
        uow.leases.acquire("purge-login-records", "host:1", now=now - timedelta(minutes=5),
                           expires_at=now - timedelta(minutes=4), not_before=now)
        uow.commit()
    answer = client.get("/readyz")
    assert answer.status_code == 200  # the web still serves; the body says what is wrong
    assert answer.get_json()["scheduler"]["status"] == "stale"
    with uow_factory() as uow:
        uow.leases.acquire("purge-login-records", "host:1", now=now,
                           expires_at=now + timedelta(minutes=1), not_before=now)
        uow.commit()
    assert client.get("/readyz").get_json()["scheduler"]["status"] == "ok"


COUNT_ONE = """
import sys
from returns_inventory import metrics
metrics.import_rows.labels("sales").inc(int(sys.argv[1]))
metrics.scheduler_tick.set(float(sys.argv[1]))
"""
RENDER = "from returns_inventory import metrics; print(metrics.render()[0].decode())"


def test_multiprocess_mode_sums_every_process_in_one_scrape(tmp_path):
    """As under gunicorn: two processes record, a third one's scrape sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for rows in ("3", "4"):
        subprocess.run([sys.executable, "-c", COUNT_ONE, rows], env=env, check=True)
    text = subprocess.run([sys.executable, "-c", RENDER], env=env, check=True,
                          capture_output=True, text=True).stdout
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("ri_import_rows_total", (("kind", "sales"),))] == 7
    assert samples[("ri_scheduler_last_tick_timestamp_seconds", ())] == 4


@pytest.mark.parametrize("status", ["succeeded", "failed"])
def test_forecast_runs_are_counted_by_how_they_ended(status):
    from prometheus_client import REGISTRY

    from returns_inventory import metrics

    def get(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0.0

    before = get("ri_forecast_runs_total", status=status), get("ri_forecast_series_total")
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    metrics.forecast_run_ended({"status": status, "started_at": start,
                                "finished_at": start + timedelta(seconds=30),
                                "series_count": 120, "fallback_count": 3, "failure_count": 1})
    assert get("ri_forecast_runs_total", status=status) == before[0] + 1
    assert get("ri_forecast_series_total") == before[1] + (120 if status == "succeeded" else 0)
