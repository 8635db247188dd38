"""The nightly run: database -> forecast -> return-aware suggestions, in one transaction."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from .. import metrics
from ..domain.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from ..persistence.uow import UnitOfWork, UowFactory
from .planning_inputs import ForecastConfig, PlanningInputs, load_inputs
from .run_guard import (
    RUN_LEASE,
    RUN_LEASE_HOURS,
    beat,
    check_as_of,
    heartbeat,
    reap_lost,
    run_holder,
)
from .run_output import (
    RowContext,
    RowInputs,
    forecast_columns,
    result_rows,
    suggestion_columns,
)

log = logging.getLogger(__name__)

EXECUTORS = ("local", "dask")
WRITE_SLICE = 50_000  # rows of results formatted and written at a time
# Where the traceback of a run that failed unexpectedly is, by who started the run: the
# scheduler runs the ones the API and the web page request.
RUN_LOGS = {"schedule": "scheduler", "api": "scheduler", "web": "scheduler", "cli": "command's"}


@dataclass(frozen=True)
class RunRequest:
    as_of: date
    actor: str
    trigger: str = "cli"  # schedule, cli, api, web
    workers: int | None = None
    executor: str | None = None
    scheduler_address: str | None = None
    runner: str | None = None  # host:pid of the process running it; default this one


def forecast_config(settings) -> ForecastConfig:
    return ForecastConfig.from_document(settings.policies.get("forecasting", {}))


def planners_today(settings, now: datetime | None = None) -> date:
    """Today in the planners' time zone (config/forecasting.toml [schedule] timezone): the
    as-of date of the nightly run, and the default of a run started by hand."""
    schedule = forecast_config(settings).schedule or {}
    zone = ZoneInfo(schedule.get("timezone", "UTC"))
    return (now or datetime.now(UTC)).astimezone(zone).date()


def run_forecast(
    uow_factory: UowFactory, settings, request: RunRequest,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Run the whole nightly job for one as-of date and record it; returns the run record."""
    run_id = start_run(uow_factory, settings, request)
    return execute_run(uow_factory, settings, run_id, request, progress)


def check_executor(config: ForecastConfig, request: RunRequest) -> str:
    executor = request.executor or config.executor
    if executor not in EXECUTORS:
        raise ValidationFailed(f"unknown executor {executor!r}",
                               errors=[FieldError("executor", "local or dask")])
    if executor == "dask":
        from ..services.dask_executor import dask_installed, dask_missing

        if not dask_installed():
            raise dask_missing()
    return executor


def start_run(uow_factory: UowFactory, settings, request: RunRequest) -> int:
    """Record a run as started (so callers can follow it) and return its id."""
    config = forecast_config(settings)
    executor = check_executor(config, request)
    with uow_factory() as uow:
        reap_lost(uow, config)
        check_as_of(uow, request.as_of, planners_today(settings))
        now = datetime.now(UTC)
        run_id = uow.planning.start_run(
            as_of=request.as_of, executor=executor, workers=request.workers or config.workers,
            trigger=request.trigger, actor=request.actor, heartbeat_at=now,
            runner=request.runner or runner_name(),
        )
        if not take_run_lease(uow, run_id, now):
            raise run_in_progress(uow)
        uow.commit()
    return run_id


def runner_name() -> str:
    from ..services.leases import holder_name

    return holder_name()


def take_run_lease(uow: UnitOfWork, run_id: int, now: datetime) -> bool:
    return uow.leases.acquire(RUN_LEASE, run_holder(run_id), now=now, not_before=now,
                              expires_at=now + timedelta(hours=RUN_LEASE_HOURS))


def run_in_progress(uow: UnitOfWork) -> Conflict:
    """The 409 of a run refused because another is running or waiting to run."""
    waiting = uow.runs.open_runs()
    if not waiting:
        return Conflict("another forecast run is starting; try again in a moment",
                        errors=[FieldError("as_of", "a run is in progress")])
    run = waiting[0]
    state = ("is still running" if run["status"] == "running"
             else "is waiting for the scheduler to start it")
    return Conflict(f"forecast run {run['id']} (as of {run['as_of']}) {state}; start another "
                    "when it has finished", errors=[FieldError("as_of", "a run is in progress")])


def _release(uow_factory: UowFactory, run_id: int) -> None:
    try:
        with uow_factory() as uow:
            uow.leases.release(RUN_LEASE, run_holder(run_id), now=datetime.now(UTC))
            uow.commit()
    except Exception:  # the lease then expires on its own; the run's outcome stands
        log.exception("forecast run %s: could not release the run lease", run_id)


def execute_run(
    uow_factory: UowFactory, settings, run_id: int, request: RunRequest,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Forecast and write the suggestions of a started run.

    The suggestions of the new run replace the undecided ones of earlier runs in the same
    transaction that writes them, so a run that fails or is killed leaves the previous run's
    suggestions in force.
    """
    config = forecast_config(settings)
    executor = request.executor or config.executor
    workers = request.workers or config.workers

    def say(stage: str) -> None:
        beat(uow_factory, run_id)  # between phases, besides the heartbeat thread's
        if progress:
            progress(stage)

    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(heartbeat(uow_factory, run_id, config.heartbeat_seconds))
            client = None
            if executor == "dask":
                from ..services.dask_executor import dask_client

                client = stack.enter_context(dask_client(request.scheduler_address, workers))
            _run_phases(uow_factory, config, run_id, request, workers, client, say)
    except Exception as exc:
        if isinstance(exc, DomainError):
            log.error("forecast run %s refused: %s", run_id, exc.detail)
        else:
            log.exception("forecast run %s failed", run_id)
        with uow_factory() as uow:
            uow.runs.finish(run_id, now=datetime.now(UTC), status="failed",
                            error=_error_text(exc, run_id, request.trigger))
            uow.commit()
        metrics.forecast_run_ended({"status": "failed"})
        raise
    finally:
        _release(uow_factory, run_id)
    run = get_run(uow_factory, run_id)
    metrics.forecast_run_ended(run)
    return run


def _error_text(exc: Exception, run_id: int, trigger: str) -> str:
    """What the run record says went wrong, for anyone who may read runs.

    A domain error's message is written for people; anything else (a database error quotes
    its SQL and parameters) stays in the log, with its traceback.
    """
    if isinstance(exc, DomainError):
        return exc.detail
    where = RUN_LOGS.get(trigger, "server")
    return f"internal error; see the {where} log for forecast run {run_id}"


def _run_phases(uow_factory: UowFactory, config: ForecastConfig, run_id: int,
                request: RunRequest, workers: int, client, say) -> None:
    """Read, forecast, write and record the run (on the cluster when ``client`` is one)."""
    from ..services.dask_run import can_share, read_on_cluster

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if client is None and workers > 1:
        _start_helpers(workers - 1)
    say("reading")
    with uow_factory() as uow:
        # Partitions can read in their own sessions only what those sessions can see.
        shared = client is not None and can_share(uow)
        inputs = (read_on_cluster(client, uow, config, request.as_of) if shared
                  else load_inputs(uow, config, request.as_of))
        location_id = uow.planning.replenish_location_id(config.replenish_location)
    if location_id is None:
        raise ValidationFailed("no warehouse to replenish: import locations first",
                               errors=[FieldError("replenish_location", "no warehouse")])
    if not len(inputs.item_ids):
        raise ValidationFailed("no items to forecast: import items first",
                               errors=[FieldError("items", "none imported")])
    timings["read_s"] = time.perf_counter() - t0
    series = len(inputs.item_ids)
    say(f"forecasting {series} series")
    t1 = time.perf_counter()
    result = _plan(inputs, config, workers, client)
    timings["forecast_s"] = time.perf_counter() - t1
    # What the write needs of the inputs; the history (most of a GiB at a million series)
    # goes now instead of staying beside the results while they are written.
    written_for = _WriteInputs(inputs.item_ids, inputs.unit_cost, inputs.as_of,
                               inputs.origin_monday)
    del inputs
    say("writing")
    t2 = time.perf_counter()
    with uow_factory() as uow:
        rows, ctx = _row_facts(uow, run_id, written_for, location_id)
        # Written here, as on the local executor: shipping the results to workers to be
        # formatted and the text back costs more CPU than the formatting itself.
        written = _write(uow, ctx, rows, result)
        timings["write_s"] = time.perf_counter() - t2
        timings["total_s"] = time.perf_counter() - t0
        diag = result.diagnostics
        failures = _failures(result)
        finished = uow.runs.finish(
            run_id, now=datetime.now(UTC), status="succeeded", series_count=series,
            suggestion_count=written, fallback_count=int(diag.get("fallbacks_total", 0)),
            failure_count=len(failures), failures=failures[:1000],
            figures={**_jsonable(diag), "phases": timings, "partitioned_io": shared},
        )
        if not finished:
            # Reaped as lost or cleared by hand while it ran: another run may be under way,
            # so this one's suggestions must not land (they roll back with this transaction).
            raise Conflict(f"forecast run {run_id} was ended while it ran (lost or cleared); "
                           "its suggestions were not written")
        uow.events.add("forecast.completed", {
            "run_id": run_id, "as_of": request.as_of.isoformat(),
            "series": series, "suggestions": written}, actor=request.actor)
        uow.commit()


def list_runs(uow_factory: UowFactory, *, offset: int, limit: int) -> tuple[list[dict], int]:
    with uow_factory() as uow:
        return uow.planning.list_runs(offset=offset, limit=limit)


def get_run(uow_factory: UowFactory, run_id: int) -> dict:
    with uow_factory() as uow:
        run = uow.planning.run(run_id)
    if run is None:
        raise NotFound(f"no forecast run {run_id}")
    return run


def _start_helpers(count: int) -> None:
    """Start the local pool's helpers while the run reads, in the background: started when
    the forecast begins, a helper came up seconds into it and the driver had forecast most
    chunks alone by then (see forecasting.parallel.standing_helpers)."""

    def start() -> None:
        from forecasting.parallel import standing_helpers

        standing_helpers(count)

    threading.Thread(target=start, name="forecast-helpers", daemon=True).start()


def _plan(inputs: PlanningInputs, config: ForecastConfig, workers: int, client):
    """The library's plan of ``inputs``; their returns table is emptied once counted."""
    # Imported here: scipy and statsmodels cost a second at start-up of every web worker and
    # CLI command, and only the run needs them.
    from forecasting import Planner, ReturnsData
    from forecasting.replenishment import ReplenishmentOptions

    options = dict(
        horizon=config.horizon_weeks, return_window_weeks=config.return_window_weeks,
        interval_level=config.interval_level, default_restockable=config.default_restockable,
        replenishment=ReplenishmentOptions(moq_rule=config.moq_rule,
                                           moq_threshold=config.moq_threshold,
                                           fill_scope=config.fill_scope),
    )
    planner_args = (inputs.sales, inputs.returns, inputs.stock, inputs.items)
    if client is not None:
        from .dask_run import ScatteringExecutor

        planner = Planner(*planner_args, executor=ScatteringExecutor(client),
                          chunks=config.dask_partitions, **options)
    else:
        planner = Planner(*planner_args, workers=workers, **options)
    # The planner has counted the returns per series: the long table (tens of millions of
    # rows at a million series) need not stay through the forecast.
    del planner_args
    inputs.returns = ReturnsData.empty()
    return planner.fit()


def _write(uow: UnitOfWork, ctx: RowContext, rows: RowInputs, result) -> int:
    """Forecasts and suggestions of the run in the caller's transaction; returns the number
    of suggestions.

    A slice of rows at a time: a million rows formatted at once (JSON text, explanations)
    would hold gigabytes of Python strings for a moment.
    """
    written = 0
    for a in range(0, len(rows.item_ids), WRITE_SLICE):
        demand, returns, plan = result_rows(result, a, a + WRITE_SLICE)
        part = rows.rows(a, a + WRITE_SLICE)
        uow.planning.add_forecast_columns(forecast_columns(ctx, part, demand, returns))
        suggestions = suggestion_columns(ctx, part, plan)
        uow.planning.add_suggestion_columns(suggestions)
        written += len(suggestions["item_id"])
    return written


@dataclass(frozen=True)
class _WriteInputs:
    """What the write reads of the run's inputs."""

    item_ids: np.ndarray
    unit_cost: np.ndarray
    as_of: date
    origin_monday: date


def _row_facts(uow: UnitOfWork, run_id: int, inputs: _WriteInputs,
               location_id: int) -> tuple[RowInputs, RowContext]:
    """What the write needs from the database per row; this run's predecessors' undecided
    suggestions step aside in the same transaction."""
    previous = uow.planning.previous_quantities(location_id, run_id, inputs.as_of)
    # Supersede first, then read the decisions: an approval committed before the supersede
    # is then seen and kept, and one that comes later finds its row superseded (a 409), so
    # an item never ends with both an approved row and a new proposed one.
    uow.planning.supersede_undecided(inputs.as_of, run_id)
    decided = uow.planning.decided_items(inputs.as_of, location_id)
    ids = inputs.item_ids.tolist()
    rows = RowInputs(
        item_ids=inputs.item_ids, unit_cost=inputs.unit_cost,
        previous_qty=np.fromiter((previous.get(i, -1) for i in ids), np.int64, len(ids)),
        decided=np.fromiter((i in decided for i in ids), bool, len(ids)))
    ctx = RowContext(run_id=run_id, as_of=inputs.as_of, origin_week=inputs.origin_monday,
                     location_id=location_id, created_at=datetime.now(UTC))
    return rows, ctx


def _failures(result) -> list[dict]:
    why = result.demand.why
    return [{"unique_id": str(result.demand.ids[i]), "reason": "fell back to a simpler model"}
            for i in np.flatnonzero(why == "fallback")]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
