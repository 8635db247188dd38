"""What keeps a killed run from blocking the next: heartbeats, reaping the lost, the as-of bound.

One forecast run at a time, whoever starts it (the scheduler, the CLI), on any host: two runs
writing at once would each supersede the other's suggestions. The run lease says who runs; the
run's heartbeat says it is still alive. A run silent for longer than `lost_after_seconds`
(config/forecasting.toml [run]) was killed with its process: it fails as lost, and the leases
its process held are freed, so the next tick of another scheduler runs instead of skipping.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from ..domain.errors import FieldError, ValidationFailed
from ..domain.weeks import monday_of, week_of
from ..persistence.uow import UnitOfWork, UowFactory
from .planning_inputs import ForecastConfig

log = logging.getLogger(__name__)

RUN_LEASE = "forecast-run"
# The longest the run lease is taken for; a lost run frees it long before, at the reaping.
RUN_LEASE_HOURS = 6


def run_holder(run_id: int) -> str:
    return f"run:{run_id}"


def reap_lost(uow: UnitOfWork, config: ForecastConfig, now: datetime | None = None) -> list[dict]:
    """Fail the runs whose process stopped beating, in the caller's transaction, and free the
    run lease and every job lease their process held. A lost nightly run is asked for again:
    its schedule will not come round before tomorrow, and planners expect tonight's plan."""
    now = now or datetime.now(UTC)
    lost = uow.runs.reap(silent_since=now - timedelta(seconds=config.lost_after_seconds),
                         now=now)
    for run in lost:
        free_run_leases(uow, run, now)
    scheduled = [run for run in lost if run["trigger"] == "schedule"]
    if scheduled and not uow.runs.open_runs():
        again = scheduled[-1]
        uow.runs.request(now=now, as_of=again["as_of"], executor=again["executor"],
                         workers=again["workers"], trigger="schedule", actor=again["actor"])
    return lost


def free_run_leases(uow: UnitOfWork, run: dict, now: datetime) -> None:
    """Free the run lease an ended run held, and every job lease its process still held."""
    uow.leases.free_held_by(run_holder(run["id"]), now=now)
    if run["runner"]:
        uow.leases.free_held_by(run["runner"], now=now)


def reap_lost_runs(uow_factory: UowFactory, config: ForecastConfig) -> list[dict]:
    """reap_lost in a transaction of its own, logged: what every scheduler tick does first."""
    with uow_factory() as uow:
        lost = reap_lost(uow, config)
        uow.commit()
    for run in lost:
        log.warning("forecast run %s lost: %s stopped beating (last %s); its leases are freed",
                    run["id"], run["runner"] or "its process", run["heartbeat_at"])
    return lost


def check_as_of(uow: UnitOfWork, as_of: date, today: date) -> None:
    """A run plans from what was sold up to its as-of date: never a day after today in the
    planners' time zone (its plan would become the default for good), never before the week
    of the first sale (nothing to forecast from)."""
    if as_of > today:
        raise ValidationFailed(f"as_of {as_of} is after today ({today}) in the planners' "
                               "time zone", errors=[FieldError("as_of", f"at most {today}")])
    first = uow.runs.first_sale()
    if first is not None and as_of < monday_of(week_of(first)):
        earliest = monday_of(week_of(first))
        raise ValidationFailed(f"as_of {as_of} is before the first sales week ({earliest})",
                               errors=[FieldError("as_of", f"at least {earliest}")])


def beat(uow_factory: UowFactory, run_id: int) -> bool:
    """Record that the run's process is alive; False once the run is no longer running."""
    with uow_factory() as uow:
        alive = uow.runs.beat(run_id, now=datetime.now(UTC))
        uow.commit()
    return alive


@contextlib.contextmanager
def heartbeat(uow_factory: UowFactory, run_id: int, every: float) -> Iterator[None]:
    """Beat every `every` seconds from a thread while the block runs (the forecast itself is
    one long call), each beat in a short transaction of its own."""
    stop = threading.Event()

    def keep_beating() -> None:
        while not stop.wait(every):
            try:
                if not beat(uow_factory, run_id):
                    return  # reaped or cleared: the final write will refuse
            except Exception:  # a busy database: the next beat may pass
                log.warning("forecast run %s: heartbeat not recorded", run_id, exc_info=True)

    thread = threading.Thread(target=keep_beating, name=f"forecast-run-{run_id}-heartbeat",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
