"""Forecast runs over HTTP: start one, follow it, read its figures."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from functools import partial

import pytest

from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.forecast_runs import planners_today
from returns_inventory.services.tokens import create_token
from tests.factories import app_on, weekly_sock_sales


@pytest.fixture
def live_client(settings, committing_db):
    """An app on a real committing database: the run continues in a background thread."""
    return _live_client(settings, committing_db)


def _live_client(settings, committing_db):
    app = app_on(settings, committing_db)
    factory = partial(UnitOfWork, committing_db)
    weekly_sock_sales(factory, date(2026, 11, 16))
    tokens = {role: create_token(factory, name=role, role=role).secret
              for role in ("planner", "grader")}
    return app.test_client(), {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}


def test_a_planner_starts_a_run_and_follows_it_to_success(live_client):
    client, headers = live_client
    started = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                          json={"as_of": "2026-11-23"})
    assert started.status_code == 202
    assert started.json["status"] == "running"
    run = _follow(client, headers["grader"], started.headers["Location"])
    assert run["status"] == "succeeded", run
    assert run["series_count"] == 1 and run["figures"]["phases"]["total_s"] > 0
    listed = client.get("/api/v1/forecast-runs", headers=headers["grader"]).json
    assert listed["data"][0]["id"] == run["id"] and listed["page"]["total"] == 1


def _in_zone(settings, zone: str):
    forecasting = {**settings.policies.get("forecasting", {}), "schedule": {"timezone": zone}}
    return replace(settings, policies={**settings.policies, "forecasting": forecasting})


def _follow(client, headers, location):
    deadline = time.monotonic() + 60
    run = client.get(location, headers=headers).json
    while run["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        run = client.get(location, headers=headers).json
    return run


def test_a_run_started_without_a_date_is_as_of_today_in_the_planners_time_zone(
        settings, committing_db):
    # 26 hours apart, these two zones never share a date, so one differs from the host's.
    zoned = next(z for z in (_in_zone(settings, "Pacific/Kiritimati"),
                             _in_zone(settings, "Etc/GMT+12"))
                 if planners_today(z) != date.today())
    client, headers = _live_client(zoned, committing_db)
    started = client.post("/api/v1/forecast-runs", headers=headers["planner"], json={})
    assert started.status_code == 202, started.json
    assert started.json["as_of"] == planners_today(zoned).isoformat()
    _follow(client, headers["planner"], started.headers["Location"])


def test_a_grader_may_not_start_a_run(live_client):
    client, headers = live_client
    assert client.post("/api/v1/forecast-runs", headers=headers["grader"],
                       json={}).status_code == 403


def test_starting_a_run_while_another_runs_answers_409_naming_it(live_client, settings,
                                                                  committing_db):
    from returns_inventory.services.forecast_runs import RunRequest, start_run

    client, headers = live_client
    running = start_run(partial(UnitOfWork, committing_db), settings,
                        RunRequest(as_of=date(2026, 11, 23), actor="job:nightly-forecast"))
    answer = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                         json={"as_of": "2026-11-23"})
    assert answer.status_code == 409
    assert answer.mimetype == "application/problem+json"
    assert f"forecast run {running}" in answer.json["detail"]
