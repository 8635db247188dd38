"""Forecast runs over HTTP: ask for one, follow the scheduler running it, read its figures."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest

from returns_inventory.jobs.context import JobContext
from returns_inventory.jobs.nightly import run_requested_forecasts
from returns_inventory.persistence.planning_tables import forecast_runs
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.forecast_runs import RunRequest, planners_today, start_run
from returns_inventory.services.run_guard import RUN_LEASE, run_holder
from returns_inventory.services.tokens import create_token
from tests.factories import app_on, weekly_sock_sales


@pytest.fixture
def live_client(settings, committing_db):
    """An app on a real committing database, as the web server and the scheduler share it."""
    return _live_client(settings, committing_db)


def _live_client(settings, committing_db):
    app = app_on(settings, committing_db)
    factory = partial(UnitOfWork, committing_db)
    weekly_sock_sales(factory, date(2026, 11, 16))
    tokens = {role: create_token(factory, name=role, role=role).secret
              for role in ("planner", "grader")}
    return app.test_client(), {r: {"Authorization": f"Bearer {t}"} for r, t in tokens.items()}


def _scheduler_tick(settings, committing_db) -> str:
    """What the scheduler's run-requested-forecasts job does at a tick."""
    return run_requested_forecasts(JobContext(
        "run-requested-forecasts", settings, partial(UnitOfWork, committing_db),
        datetime.now(UTC), "scheduler-host:1"))


def test_a_planner_asks_for_a_run_and_the_scheduler_runs_it(live_client, settings,
                                                            committing_db):
    client, headers = live_client
    started = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                          json={"as_of": "2026-11-23"})
    assert started.status_code == 202
    # The web only recorded it: nothing forecasts until the scheduler picks it up.
    assert started.json["status"] == "requested" and started.json["figures"] == {}
    waiting = client.get(started.headers["Location"], headers=headers["grader"]).json
    assert waiting["status"] == "requested"
    assert "succeeded" in _scheduler_tick(settings, committing_db)
    run = client.get(started.headers["Location"], headers=headers["grader"]).json
    assert run["status"] == "succeeded", run
    assert run["series_count"] == 1 and run["figures"]["phases"]["total_s"] > 0
    assert run["heartbeat_at"] is not None
    listed = client.get("/api/v1/forecast-runs", headers=headers["grader"]).json
    assert listed["data"][0]["id"] == run["id"] and listed["page"]["total"] == 1
    assert _scheduler_tick(settings, committing_db) == "no run waiting"


def _in_zone(settings, zone: str):
    forecasting = {**settings.policies.get("forecasting", {}), "schedule": {"timezone": zone}}
    return replace(settings, policies={**settings.policies, "forecasting": forecasting})


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


def test_a_grader_may_not_start_a_run(live_client):
    client, headers = live_client
    assert client.post("/api/v1/forecast-runs", headers=headers["grader"],
                       json={}).status_code == 403


def test_starting_a_run_while_another_runs_answers_409_naming_it(live_client, settings,
                                                                  committing_db):
    client, headers = live_client
    running = start_run(partial(UnitOfWork, committing_db), settings,
                        RunRequest(as_of=date(2026, 11, 23), actor="job:nightly-forecast"))
    answer = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                         json={"as_of": "2026-11-23"})
    assert answer.status_code == 409
    assert answer.mimetype == "application/problem+json"
    assert f"forecast run {running}" in answer.json["detail"]


def test_asking_again_while_a_run_waits_for_the_scheduler_answers_409_naming_it(live_client):
    client, headers = live_client
    first = client.post("/api/v1/forecast-runs", headers=headers["planner"], json={})
    assert first.status_code == 202, first.json
    again = client.post("/api/v1/forecast-runs", headers=headers["planner"], json={})
    assert again.status_code == 409
    assert f"forecast run {first.json['id']}" in again.json["detail"]
    assert "waiting for the scheduler" in again.json["detail"]


@pytest.mark.parametrize("as_of", ["tomorrow", "2919-11-10", "2011-03-31"])
def test_an_as_of_after_today_or_before_the_first_sales_week_is_a_422_naming_it(
        live_client, settings, as_of):
    client, headers = live_client
    if as_of == "tomorrow":
        as_of = (planners_today(settings) + timedelta(days=1)).isoformat()
    answer = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                         json={"as_of": as_of})
    assert answer.status_code == 422, answer.json
    assert answer.mimetype == "application/problem+json"
    assert [e["field"] for e in answer.json["errors"]] == ["as_of"]
    listed = client.get("/api/v1/forecast-runs", headers=headers["planner"]).json
    assert listed["page"]["total"] == 0


def test_the_first_sales_week_is_the_earliest_as_of(live_client):
    client, headers = live_client
    first_sale = date(2026, 11, 16) - timedelta(weeks=19)  # weekly_sock_sales' first
    monday = first_sale - timedelta(days=first_sale.weekday())
    before = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                         json={"as_of": (monday - timedelta(days=1)).isoformat()})
    assert before.status_code == 422, before.json
    assert monday.isoformat() in before.json["errors"][0]["reason"]
    allowed = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                          json={"as_of": monday.isoformat()})
    assert allowed.status_code == 202, allowed.json


def test_more_workers_than_config_allows_is_a_422_naming_workers(live_client, settings):
    client, headers = live_client
    answer = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                         json={"workers": 64})
    assert answer.status_code == 422, answer.json
    assert [e["field"] for e in answer.json["errors"]] == ["workers"]


def test_a_run_whose_process_died_is_reaped_when_a_planner_asks_for_a_run(
        live_client, settings, committing_db):
    client, headers = live_client
    factory = partial(UnitOfWork, committing_db)
    stuck = start_run(factory, settings, RunRequest(as_of=date(2026, 11, 23), actor="cli:x",
                                                    runner="dead-host:4242"))
    silent = datetime.now(UTC) - timedelta(hours=1)
    with factory() as uow:
        uow.connection.execute(forecast_runs.update().where(forecast_runs.c.id == stuck)
                               .values(heartbeat_at=silent))
        uow.leases.acquire("nightly-forecast", "dead-host:4242", now=silent,
                           expires_at=silent + timedelta(hours=6), not_before=silent)
        uow.commit()
    answer = client.post("/api/v1/forecast-runs", headers=headers["planner"], json={})
    assert answer.status_code == 202, answer.json
    reaped = client.get(f"/api/v1/forecast-runs/{stuck}", headers=headers["planner"]).json
    assert reaped["status"] == "failed" and reaped["error"].startswith("lost")
    now = datetime.now(UTC)
    with factory() as uow:
        leases = {job: uow.leases.get(job) for job in (RUN_LEASE, "nightly-forecast")}
    assert leases[RUN_LEASE]["holder"] == run_holder(stuck)
    assert all(_aware(lease["expires_at"]) <= now for lease in leases.values())


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_a_dask_run_without_the_dask_extra_is_a_422_naming_the_extra(live_client, monkeypatch):
    client, headers = live_client
    for name in ("dask", "distributed"):  # as if installed without `[dask]`
        monkeypatch.setitem(sys.modules, name, None)
    refused = client.post("/api/v1/forecast-runs", headers=headers["planner"],
                          json={"as_of": "2026-11-23", "executor": "dask"})
    assert refused.status_code == 422
    assert "pip install -e '.[dask]'" in refused.json["detail"]
    assert [e["field"] for e in refused.json["errors"]] == ["executor"]
    assert client.get("/api/v1/forecast-runs", headers=headers["grader"]).json["data"] == []
