"""Runs asked for by the web, run by the scheduler; clearing a stuck run; discarding a run.

A web worker never forecasts: gunicorn recycles and kills workers, and a forecast (with its
process pool or Dask cluster) does not belong in one. The API and the runs page only record
a `requested` run; the scheduler's `run-requested-forecasts` job starts it within seconds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..persistence.uow import UowFactory
from .forecast_runs import (
    RunRequest,
    check_executor,
    execute_run,
    forecast_config,
    get_run,
    planners_today,
    run_in_progress,
    runner_name,
    take_run_lease,
)
from .run_guard import RUN_LEASE, check_as_of, free_run_leases, reap_lost, run_holder

log = logging.getLogger(__name__)


def request_run(uow_factory: UowFactory, settings, request: RunRequest) -> dict:
    """Record a run for the scheduler to start; refused while another is open."""
    config = forecast_config(settings)
    executor = check_executor(config, request)
    workers = request.workers or config.workers
    if workers > config.max_workers:
        raise ValidationFailed(
            f"at most {config.max_workers} workers (config/forecasting.toml max_workers)",
            errors=[FieldError("workers", f"at most {config.max_workers}")])
    with uow_factory() as uow:
        reap_lost(uow, config)
        check_as_of(uow, request.as_of, planners_today(settings))
        if uow.runs.open_runs():
            raise run_in_progress(uow)
        run_id = uow.runs.request(
            now=datetime.now(UTC), as_of=request.as_of, executor=executor, workers=workers,
            trigger=request.trigger, actor=request.actor)
        uow.commit()
    return get_run(uow_factory, run_id)


def run_next_requested(uow_factory: UowFactory, settings, runner: str | None = None
                       ) -> dict | None:
    """Start the oldest requested run here and run it to its end; None when none is waiting
    or another run holds the run lease (the request then waits for the next tick)."""
    config = forecast_config(settings)
    runner = runner or runner_name()
    with uow_factory() as uow:
        run = uow.runs.next_requested()
        now = datetime.now(UTC)
        if run is None or not take_run_lease(uow, run["id"], now):
            return None
        if not uow.runs.claim(run["id"], runner, now=now):
            return None  # discarded or taken meanwhile; leaving rolls the lease back
        uow.commit()
    request = RunRequest(
        as_of=run["as_of"], actor=run["actor"], trigger=run["trigger"], executor=run["executor"],
        workers=min(run["workers"], config.max_workers), runner=runner)
    try:
        return execute_run(uow_factory, settings, run["id"], request)
    except Exception:  # recorded on the run and logged by execute_run
        return get_run(uow_factory, run["id"])


def clear_run(uow_factory: UowFactory, run_id: int, actor: str) -> dict:
    """End a requested or running run by hand as failed and free its leases, for a run whose
    process is known to be gone (its heartbeat would otherwise expire in lost_after)."""
    now = datetime.now(UTC)
    with uow_factory() as uow:
        run = uow.planning.run(run_id)
        if run is None:
            raise NotFound(f"no forecast run {run_id}")
        if not uow.runs.fail(run_id, f"cleared by hand by {actor}", now=now):
            raise Conflict(f"forecast run {run_id} is {run['status']}, not running or "
                           "requested; there is nothing to clear",
                           errors=[FieldError("run_id", "not running or requested")])
        free_run_leases(uow, run, now)
        uow.commit()
    log.warning("forecast run %s cleared by %s", run_id, actor)
    return get_run(uow_factory, run_id)


def discard_run(uow_factory: UowFactory, run_id: int, actor: str) -> dict:
    """Withdraw a run: it never becomes the default run again, its undecided suggestions
    leave every list and export, and the run in force gets back what it superseded.
    Decided suggestions stay, for the audit."""
    now = datetime.now(UTC)
    with uow_factory() as uow:
        run = uow.planning.run(run_id)
        if run is None:
            raise NotFound(f"no forecast run {run_id}")
        if run["discarded_at"] is not None:
            return run  # discarding twice changes nothing
        # Hold the run lease while suggestions change hands, so no run writes meanwhile.
        if not take_run_lease(uow, run_id, now):
            raise Conflict("a forecast run is running; discard when it has finished",
                           errors=[FieldError("run_id", "a run is in progress")])
        if run["status"] == "requested":
            uow.runs.fail(run_id, f"discarded by {actor} before it ran", now=now)
        if not uow.runs.discard(run_id, actor, now=now):
            raise Conflict(f"forecast run {run_id} is running; wait for it to finish, or "
                           f"clear it with `returns-inventory forecast clear-run {run_id}`",
                           errors=[FieldError("run_id", "running")])
        withdrawn = uow.runs.withdraw_undecided(run_id)
        in_force = uow.suggestions.latest_run()
        restored = (uow.runs.restore_superseded(in_force["id"], in_force["as_of"])
                    if in_force else 0)
        uow.leases.release(RUN_LEASE, run_holder(run_id), now=now)
        uow.events.add("forecast.discarded", {
            "run_id": run_id, "as_of": run["as_of"].isoformat(), "withdrawn": withdrawn,
            "run_in_force": in_force["id"] if in_force else None}, actor=actor)
        uow.commit()
    log.info("forecast run %s discarded by %s: %s suggestions withdrawn, %s restored",
             run_id, actor, withdrawn, restored)
    return get_run(uow_factory, run_id)

