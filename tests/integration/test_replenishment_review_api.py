"""Planners review a run's suggestions over the API: the list, one suggestion, roles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.suggestion_data import AS_OF, HORIZON, sell_weekly, week_start

URL = "/api/v1/replenishment/suggestions"


def _skus(answer) -> list[str]:
    assert answer.status_code == 200, answer.json
    return [f"{r['sku']}/{r['size']}" for r in answer.json["data"]]


def test_the_list_shows_the_latest_run_with_every_column_a_planner_reads(client, auth, board):
    answer = client.get(URL, headers=auth("planner"))
    assert answer.json["run"] == {"id": board.run_id, "as_of": AS_OF.isoformat()}
    assert answer.json["page"] == {"offset": 0, "limit": 100, "total": 5,
                                   "total_exact": True, "next_cursor": None}
    medium = next(r for r in answer.json["data"] if r["size"] == "M")
    assert medium["decided_at"] is None and medium["decided_by"] is None
    assert {k: medium[k] for k in ("suggested_qty", "return_blind_qty", "saved_by_returns",
                                   "previous_qty", "change", "value", "unit_cost", "status",
                                   "location", "supplier", "case_pack", "version")} == {
        "suggested_qty": 30, "return_blind_qty": 36, "saved_by_returns": 6,
        "previous_qty": 24, "change": 6, "value": "255.00", "unit_cost": "8.50",
        "status": "proposed", "location": "WH1", "supplier": "ACME", "case_pack": 6,
        "version": 1}


def test_a_backfill_for_an_earlier_date_does_not_replace_the_plan_planners_see(
    client, auth, board, uow_factory
):
    with uow_factory() as uow:
        backfill = uow.planning.start_run(as_of=AS_OF - timedelta(days=28), executor="local",
                                          workers=1, trigger="cli", actor="test")
        uow.planning.finish_run(backfill, status="succeeded")
        uow.commit()
    answer = client.get(URL, headers=auth("planner"))
    assert answer.json["run"] == {"id": board.run_id, "as_of": AS_OF.isoformat()}
    assert answer.json["page"]["total"] == 5
    # It can still be reviewed by asking for it.
    assert client.get(f"{URL}?run={backfill}", headers=auth("planner")).json["run"]["id"] == (
        backfill
    )


@pytest.mark.parametrize(("query", "expected"), [
    ("category=bottoms", {"JEAN-IND/32"}),
    ("sku=TEE-BLK", {"TEE-BLK/S", "TEE-BLK/M", "TEE-BLK/L"}),
    ("location=WH2", {"SOCK-WHT/OS"}),
    ("supplier=DENIMCO", {"JEAN-IND/32"}),
    ("min_quantity=18", {"TEE-BLK/M", "TEE-BLK/L", "SOCK-WHT/OS"}),
    ("min_value=150", {"TEE-BLK/M", "TEE-BLK/L", "JEAN-IND/32"}),
    ("changed=true", {"TEE-BLK/M", "TEE-BLK/L", "SOCK-WHT/OS"}),
    ("changed=false", {"TEE-BLK/S", "JEAN-IND/32"}),
    ("min_change=10", {"TEE-BLK/L", "SOCK-WHT/OS"}),
    ("changed=true&sku=TEE-BLK&min_change=7", {"TEE-BLK/L"}),
    ("status=approved,edited", set()),
])
def test_the_list_filters_narrow_the_run(client, auth, board, query, expected):
    answer = client.get(f"{URL}?{query}", headers=auth("planner"))
    assert set(_skus(answer)) == expected
    assert answer.json["page"]["total"] == len(expected)


def test_the_list_sorts_by_any_column_either_way_and_pages_with_a_total(client, auth, board):
    planner = auth("planner")
    by_value = _skus(client.get(f"{URL}?sort=-value", headers=planner))
    assert by_value == ["TEE-BLK/M", "JEAN-IND/32", "TEE-BLK/L", "TEE-BLK/S", "SOCK-WHT/OS"]
    by_change = _skus(client.get(f"{URL}?sort=change,-sku", headers=planner))
    assert by_change == ["SOCK-WHT/OS", "TEE-BLK/S", "JEAN-IND/32", "TEE-BLK/M", "TEE-BLK/L"]
    page = client.get(f"{URL}?sort=-value&offset=2&limit=2", headers=planner)
    assert _skus(page) == ["TEE-BLK/L", "TEE-BLK/S"]
    assert {k: page.json["page"][k] for k in ("offset", "limit", "total")} == {
        "offset": 2, "limit": 2, "total": 5}


def test_an_unknown_sort_column_is_a_validation_problem(client, auth, board):
    answer = client.get(f"{URL}?sort=colour", headers=auth("planner"))
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "sort"


def test_an_earlier_run_is_listed_on_request(client, auth, board):
    answer = client.get(f"{URL}?run={board.old_run_id}", headers=auth("integrator"))
    assert _skus(answer) == ["TEE-BLK/M"]
    assert answer.json["data"][0]["status"] == "superseded"
    assert client.get(f"{URL}?run=999999", headers=auth("planner")).status_code == 404


def test_before_any_run_the_list_is_empty(client, auth):
    answer = client.get(URL, headers=auth("planner"))
    assert answer.status_code == 200
    assert answer.json == {"run": None, "data": [], "quality_alerts_as_of": None,
                           "page": {"offset": 0, "limit": 100, "total": 0,
                                    "total_exact": True, "next_cursor": None}}


def test_one_suggestion_brings_its_forecast_history_returns_terms_and_decisions(
        client, auth, board, uow_factory):
    item_id = board.item_ids["TEE-BLK/M"]
    sell_weekly(uow_factory, item_id, "WH1", {1: 7, 2: 5, 52: 3, 53: 99})
    suggestion_id = board.ids["TEE-BLK/M"]
    answer = client.get(f"{URL}/{suggestion_id}", headers=auth("planner"))
    assert answer.status_code == 200, answer.json
    got = answer.json
    assert got["id"] == suggestion_id and got["description"] == "TEE-BLK M"
    assert got["forecast"]["method"] == "ses" and got["forecast"]["why"] == "holdout"
    assert got["forecast"]["weeks"][0] == {"week": AS_OF.isoformat(), "forecast": 10.0,
                                           "lower": 6.0, "upper": 14.0}
    assert len(got["forecast"]["weeks"]) == HORIZON
    history = {h["week"]: h["units"] for h in got["history"]}
    assert len(history) == 52 and min(history) == week_start(52).isoformat()
    assert history[week_start(1).isoformat()] == 7 and history[week_start(2).isoformat()] == 5
    assert history[week_start(52).isoformat()] == 3  # week 53 ago is out of the window
    assert sum(history.values()) == 15
    assert got["returns"]["rate"] == 0.25 and got["returns"]["lag_median_weeks"] == 2.0
    assert got["returns"]["expected_per_week"][0] == {"week": AS_OF.isoformat(), "units": 1.5}
    terms = {t["term"]: t for t in got["terms"]}
    assert terms["expected_returns"]["value"] == 6.0
    assert "back from customers" in terms["expected_returns"]["meaning"]
    assert got["explanation"] == "order-up-to arithmetic for 30"
    assert got["decisions"] == []


def test_a_missing_suggestion_is_not_found(client, auth, board):
    answer = client.get(f"{URL}/987654", headers=auth("planner"))
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("role", "method", "path", "status"), [
    ("grader", "get", URL, 403),
    ("integrator", "get", URL, 200),
    ("integrator", "get", "/api/v1/replenishment/exports", 200),
    ("grader", "get", "/api/v1/replenishment/exports", 403),
    ("integrator", "post", URL + "/decisions", 403),
    ("admin", "get", URL, 200),
])
def test_planners_decide_and_the_erp_reads(client, auth, board, role, method, path, status):
    body = {"action": "approve", "ids": [1]} if method == "post" else None
    answer = getattr(client, method)(path, headers=auth(role), json=body)
    assert answer.status_code == status, answer.json


def test_the_openapi_document_describes_the_review(client, auth):
    spec = client.get("/api/v1/openapi.json", headers=auth("admin")).json
    paths = spec["paths"]
    assert "/api/v1/replenishment/suggestions/{suggestion_id}/decision" in paths
    schemas = spec["components"]["schemas"]
    assert {"DecisionIn", "SuggestionDetail", "OrderExport", "BulkDecisionIn"} <= set(schemas)
    exports = paths["/api/v1/replenishment/exports"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(exports)
