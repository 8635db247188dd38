"""Every error a client can meet is one problem-document shape, and tells no secrets."""

from __future__ import annotations

import io

import pytest
from werkzeug.test import EnvironBuilder

from returns_inventory import create_app
from returns_inventory.settings import Settings
from tests.databases import fresh_database

PROBLEM_FIELDS = {"type", "title", "status", "detail"}


def _assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body) >= PROBLEM_FIELDS and body["status"] == status
    return body


def test_an_unknown_url_is_a_404_problem(client, auth):
    _assert_problem(client.get("/api/v1/nowhere", headers=auth()), 404)


def test_a_wrong_method_is_a_405_problem_that_says_what_is_allowed(client, auth):
    response = client.delete("/api/v1/stock", headers=auth())
    _assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}


def test_a_body_over_the_configured_size_is_a_413_problem(app, client, auth):
    app.extensions["ri.settings"] = app.extensions["ri.settings"].replace(max_request_bytes=512)
    body = {"sku": "TEE-BLK", "size": "M", "location": "WH1", "quantity": 1,
            "reason": "x" * 600}
    response = client.post("/api/v1/stock/adjustments", headers=auth("planner"), json=body)
    _assert_problem(response, 413)


def test_a_body_without_content_length_is_still_bounded(app, client, auth):
    # Chunked uploads carry no Content-Length; werkzeug must stop reading at the limit.
    app.extensions["ri.settings"] = app.extensions["ri.settings"].replace(max_request_bytes=512)
    builder = EnvironBuilder(
        "/api/v1/stock/adjustments", method="POST",
        input_stream=io.BytesIO(b'{"reason": "' + b"x" * 4096),
        headers={**auth("planner"), "Content-Type": "application/json",
                 "Idempotency-Key": "big"},
    )
    environ = builder.get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True  # what gunicorn says for a chunked body
    response = client.open(environ)
    _assert_problem(response, 413)


def test_malformed_json_is_a_client_error_problem(client, auth):
    response = client.post("/api/v1/stock/adjustments", headers=auth("planner"),
                           data="{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    _assert_problem(response, response.status_code)


def test_an_unexpected_failure_is_a_500_problem_without_a_stack_trace(app, client, auth):
    @app.get("/api/v1/explode")
    def explode():
        raise RuntimeError("secret connection string postgres://u:p@db")

    body = _assert_problem(client.get("/api/v1/explode", headers=auth()), 500)
    text = str(body)
    assert "Traceback" not in text and "secret" not in text and "RuntimeError" not in text


def test_readyz_is_a_503_problem_when_the_schema_is_not_at_head(backend, tmp_path):
    with fresh_database(backend, tmp_path, migrated=False) as url:
        app = create_app(Settings.load(env={"RI_INSTANCE_PATH": str(tmp_path)},
                                       database_url=url, secret_key="x"))
        try:
            body = _assert_problem(app.test_client().get("/readyz"), 503)
            assert "schema at nothing" in body["detail"]
            assert app.test_client().get("/healthz").status_code == 200
        finally:
            app.extensions["ri.database"].dispose()


def test_readyz_is_a_503_problem_when_the_database_is_unreachable(tmp_path):
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=2"
    app = create_app(Settings.load(env={"RI_INSTANCE_PATH": str(tmp_path)},
                                   database_url=url, secret_key="x"))
    body = _assert_problem(app.test_client().get("/readyz"), 503)
    assert body["detail"].startswith("database unreachable")
    assert "nobody" not in body["detail"]  # no connection details leak


HUGE = "99999999999999999999"  # past 64 bits: SQLite cannot even bind it


def test_a_number_too_large_for_the_database_is_a_422_naming_the_field(client, auth):
    for path, field in [
        (f"/api/v1/stock?offset={HUGE}", "offset"),
        (f"/api/v1/events?after={HUGE}", "after"),
        (f"/api/v1/units?after={HUGE}", "after"),
        (f"/api/v1/write-offs?after={HUGE}", "after"),
    ]:
        body = _assert_problem(client.get(path, headers=auth()), 422)
        assert [e["field"] for e in body["errors"]] == [field], path
    adjustment = {"sku": "TEE-BLK", "size": "M", "location": "WH1", "quantity": 3_000_000_000,
                  "reason": "count"}
    body = _assert_problem(
        client.post("/api/v1/stock/adjustments", headers=auth("planner"), json=adjustment), 422
    )
    assert [e["field"] for e in body["errors"]] == ["quantity"]


@pytest.mark.parametrize("quantity", [1.5, True])
def test_a_quantity_that_is_not_a_whole_number_is_a_422_not_truncated(client, auth, quantity):
    adjustment = {"sku": "TEE-BLK", "size": "M", "location": "WH1", "quantity": quantity,
                  "reason": "count"}
    body = _assert_problem(
        client.post("/api/v1/stock/adjustments", headers=auth("planner"), json=adjustment), 422
    )
    assert [e["field"] for e in body["errors"]] == ["quantity"]
    lines = [{"line_ref": "1", "quantity": quantity, "reason": "too_small"}]
    body = _assert_problem(client.post("/api/v1/returns", headers=auth("integrator"),
                                       json={"order_ref": "SO-1", "lines": lines}), 422)
    assert [e["field"] for e in body["errors"]] == ["lines.0.quantity"]


def test_a_date_at_the_ends_of_the_calendar_is_a_422_naming_the_field(client, auth):
    for path, field in [
        ("/api/v1/analytics/returns?until=0001-01-01", "until"),
        ("/api/v1/reports/write-offs?until=9999-12-31", "until"),
        ("/api/v1/reports/write-offs?since=0001-01-01", "since"),
    ]:
        body = _assert_problem(client.get(path, headers=auth("planner")), 422)
        assert [e["field"] for e in body["errors"]] == [field], path
    run = client.post("/api/v1/forecast-runs", headers=auth("planner"),
                      json={"as_of": "0001-01-01"})
    assert run.status_code == 422 and run.json["errors"][0]["field"] == "as_of"


def test_a_cursor_into_a_64_bit_table_may_pass_32_bits(client, auth):
    answer = client.get("/api/v1/ledger?after=3000000000", headers=auth())
    assert answer.status_code == 200 and answer.json["data"] == []


def test_an_id_too_large_for_any_row_in_the_path_is_a_404(client, auth):
    for path in (f"/api/v1/forecast-runs/{HUGE}", f"/api/v1/replenishment/suggestions/{HUGE}"):
        _assert_problem(client.get(path, headers=auth()), 404)


@pytest.mark.parametrize(("url", "params"), [
    ("/api/v1/analytics/returns", {"from": "2026-01-01"}),  # the parameter is `since`
    ("/api/v1/stock", {"bogus": "1"}),
    ("/api/v1/units", {"state": "awaiting_grading"}),  # the parameter is `status`
])
def test_an_unknown_query_parameter_is_a_422_naming_it_not_ignored(client, auth, url, params):
    response = client.get(url, headers=auth("admin"), query_string=params)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    [error] = response.get_json()["errors"]
    assert error["field"] == next(iter(params))


def test_a_body_that_is_not_an_object_is_an_error_about_the_body(client, auth):
    response = client.post("/api/v1/stock/adjustments", headers=auth("admin"), json=[1, 2])
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["body"]


def test_a_json_body_sent_as_another_type_is_a_415_saying_so(client, auth):
    response = client.post("/api/v1/stock/adjustments", headers=auth("admin"),
                           data='{"sku": "TEE"}', content_type="text/plain")
    assert response.status_code == 415
    assert response.content_type == "application/problem+json"
    assert "application/json" in response.get_json()["detail"]
