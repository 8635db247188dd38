"""A running run beats; one that stopped beating is reaped, and if its process was in fact
alive, its late write is refused rather than landing beside another run's."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from returns_inventory.domain.errors import Conflict
from returns_inventory.persistence.planning_tables import (
    forecast_runs,
    replenishment_suggestions,
)
from returns_inventory.services import forecast_runs as runs_service
from returns_inventory.services.forecast_runs import (
    RunRequest,
    execute_run,
    forecast_config,
    start_run,
)
from returns_inventory.services.run_guard import heartbeat, reap_lost_runs
from tests.integration.test_forecast_run import AS_OF, history  # noqa: F401


def _run(uow_factory, run_id):
    with uow_factory() as uow:
        return uow.planning.run(run_id)


def _silence(uow_factory, run_id, hours=1):
    with uow_factory() as uow:
        uow.connection.execute(forecast_runs.update().where(forecast_runs.c.id == run_id)
                               .values(heartbeat_at=datetime.now(UTC) - timedelta(hours=hours)))
        uow.commit()


def test_the_heartbeat_thread_keeps_a_running_run_alive(uow_factory, settings,
                                                       history):  # noqa: F811
    run_id = start_run(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    _silence(uow_factory, run_id)
    before = _run(uow_factory, run_id)["heartbeat_at"]
    with heartbeat(uow_factory, run_id, every=0.05):
        deadline = time.monotonic() + 60
        while _run(uow_factory, run_id)["heartbeat_at"] == before:
            assert time.monotonic() < deadline, "no heartbeat recorded"
            time.sleep(0.05)
    assert reap_lost_runs(uow_factory, forecast_config(settings)) == []
    assert _run(uow_factory, run_id)["status"] == "running"


def test_a_run_reaped_while_its_process_lived_on_writes_nothing(
        uow_factory, settings, history, monkeypatch):  # noqa: F811
    request = RunRequest(as_of=AS_OF, actor="test")
    run_id = start_run(uow_factory, settings, request)
    plan = runs_service._plan

    def stalls_then_plans(*args, **kwargs):
        # The process froze long enough for another scheduler to give up on it.
        _silence(uow_factory, run_id)
        assert [r["id"] for r in reap_lost_runs(uow_factory, forecast_config(settings))] == [
            run_id]
        return plan(*args, **kwargs)

    monkeypatch.setattr(runs_service, "_plan", stalls_then_plans)
    with pytest.raises(Conflict):
        execute_run(uow_factory, settings, run_id, request)
    run = _run(uow_factory, run_id)
    assert (run["status"], run["error"]) == (
        "failed", "lost: the process running it stopped beating")
    with uow_factory() as uow:
        written = uow.connection.scalar(select(func.count()).select_from(
            replenishment_suggestions).where(replenishment_suggestions.c.run_id == run_id))
    assert written == 0
