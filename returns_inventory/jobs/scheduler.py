"""The scheduler: an APScheduler 3.x BlockingScheduler running the jobs of config/schedules.toml.

A job is an importable function taking a JobContext. Its id names its schedule in
config/schedules.toml and its lease row in the database, so it must never change. To add one,
put the function in JOBS and a `[jobs.<id>]` table in config/schedules.toml.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj

from .. import metrics
from ..persistence.engine import make_engine
from ..persistence.uow import Database, UnitOfWork, UowFactory
from ..services.forecast_runs import forecast_config
from ..services.leases import holder_name, run_exclusively
from ..services.run_guard import reap_lost_runs
from ..settings import Settings, SettingsError
from . import housekeeping, nightly
from .context import JobContext
from .dispatcher import Dispatcher
from .nightly import NO_RUN_WAITING

log = logging.getLogger(__name__)

# Interval jobs count their ticks from here, so every scheduler process fires them at the same
# instants (whenever it started) and the lease can tell one tick from the next.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")

JOBS: dict[str, Callable[[JobContext], Any]] = {
    "release-expired-reservations": housekeeping.release_expired_reservations,
    "purge-idempotency-keys": housekeeping.purge_idempotency_keys,
    "purge-login-records": housekeeping.purge_login_records,
    "nightly-forecast": nightly.nightly_forecast,
    "deliver-webhooks": nightly.deliver_webhooks,
    "run-requested-forecasts": nightly.run_requested_forecasts,
    "settle-refunds": housekeeping.settle_refunds,
    "returns-reports": housekeeping.refresh_returns_reports,
}
NIGHTLY = "nightly-forecast"


@dataclass(frozen=True)
class JobSpec:
    id: str
    function: Callable[[JobContext], Any]
    trigger: BaseTrigger
    misfire_grace_seconds: int
    lease: timedelta
    every: timedelta | None = None  # interval jobs; None for cron jobs

    def tick(self, now: datetime) -> datetime:
        """When the run starting `now` was due: the tick the lease is taken for."""
        if self.every:
            return EPOCH + (now - EPOCH) // self.every * self.every
        # A cron run starts within the misfire grace of its time, or not at all.
        due = self.trigger.get_next_fire_time(
            None, now - timedelta(seconds=self.misfire_grace_seconds)
        )
        return min(due, now) if due else now


def job_specs(settings: Settings) -> list[JobSpec]:
    """The enabled jobs of config/schedules.toml, checked: a typo fails at start-up."""
    config = settings.policies.get("schedules", {})
    timezone = ZoneInfo(config.get("scheduler", {}).get("timezone", "UTC"))
    specs = []
    jobs = dict(config.get("jobs", {}))
    # The nightly run's time belongs to the planners: config/forecasting.toml [schedule].
    nightly = settings.policies.get("forecasting", {}).get("schedule", {})
    jobs.setdefault(NIGHTLY, {
        "hour": nightly.get("hour", 2), "minute": nightly.get("minute", 0),
        "misfire_grace_seconds": nightly.get("misfire_grace_seconds", 3600),
        "lease_seconds": nightly.get("lease_seconds", 6 * 3600),
        "enabled": nightly.get("enabled", True), "timezone": nightly.get("timezone"),
    })
    for job_id, entry in jobs.items():
        if not entry.get("enabled", True):
            continue
        zone = ZoneInfo(entry["timezone"]) if entry.get("timezone") else timezone
        specs.append(_spec(job_id, entry, zone))
    return specs


def _spec(job_id: str, entry: Mapping[str, Any], timezone: ZoneInfo) -> JobSpec:
    if "function" in entry:
        function = ref_to_obj(entry["function"])
    elif job_id in JOBS:
        function = JOBS[job_id]
    else:
        raise SettingsError(f"schedules.toml: no job {job_id!r} (known: {', '.join(JOBS)})")
    grace = int(entry.get("misfire_grace_seconds", 60))
    every = timedelta(
        hours=entry.get("every_hours", 0),
        minutes=entry.get("every_minutes", 0),
        seconds=entry.get("every_seconds", 0),
    )
    cron = {k: entry[k] for k in CRON_FIELDS if k in entry}
    if bool(every) == bool(cron):
        raise SettingsError(
            f"schedules.toml [jobs.{job_id}]: give either every_hours/minutes/seconds or "
            "cron fields (hour, minute, ...), not both or neither"
        )
    lease = timedelta(seconds=int(entry.get("lease_seconds", 600)))
    if every:
        trigger = IntervalTrigger(seconds=every.total_seconds(), start_date=EPOCH, timezone=UTC)
        return JobSpec(job_id, function, trigger, grace, lease, every)
    return JobSpec(job_id, function, CronTrigger(timezone=timezone, **cron), grace, lease)


# What a job says when its tick found nothing to do.
IDLE = frozenset({NO_RUN_WAITING, housekeeping.NOTHING_TO_SETTLE,
                  housekeeping.NO_REPORT_TO_REFRESH})


class JobRunner:
    """What APScheduler calls: runs a job under its lease and logs the outcome."""

    def __init__(self, settings: Settings, uow_factory: UowFactory, specs: list[JobSpec],
                 holder: str):
        self.settings, self.uow_factory, self.holder = settings, uow_factory, holder
        self.specs = {spec.id: spec for spec in specs}

    def __call__(self, job_id: str) -> bool:
        spec = self.specs[job_id]
        metrics.scheduler_tick.set_to_current_time()
        self.reap()
        now = datetime.now(UTC)
        context = JobContext(job_id, self.settings, self.uow_factory, now, self.holder)
        started = time.monotonic()
        ran, summary = run_exclusively(
            self.uow_factory, job_id, partial(spec.function, context), holder=self.holder,
            lease=spec.lease, tick=spec.tick(now), now=now,
        )
        if ran:
            # Jobs ticking every few seconds mostly find nothing to do: that stays out of INFO.
            level = logging.DEBUG if summary in IDLE else logging.INFO
            log.log(level, "job %s ran in %.2fs: %s", job_id, time.monotonic() - started, summary)
        return ran

    def reap(self) -> None:
        """Every tick first fails the forecast runs whose process died and frees its leases,
        so this tick can take over what a killed scheduler held."""
        try:
            reap_lost_runs(self.uow_factory, forecast_config(self.settings))
        except Exception:  # the job itself may still run; the next tick tries again
            log.exception("could not reap lost forecast runs")


def build_scheduler(settings: Settings, uow_factory: UowFactory, *,
                    holder: str | None = None) -> BlockingScheduler:
    """A BlockingScheduler with every enabled job; start() it to run them."""
    config = settings.policies.get("schedules", {})
    timezone = ZoneInfo(config.get("scheduler", {}).get("timezone", "UTC"))
    scheduler = BlockingScheduler(timezone=timezone)
    specs = job_specs(settings)
    runner = JobRunner(settings, uow_factory, specs, holder or holder_name())
    for spec in specs:
        scheduler.add_job(
            runner,
            spec.trigger,
            args=[spec.id],
            id=spec.id,
            name=spec.id,
            coalesce=True,
            misfire_grace_time=spec.misfire_grace_seconds,
            max_instances=1,
            replace_existing=True,
        )
    return scheduler


def run_scheduler(settings: Settings, database: Database | None = None) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C; running jobs finish."""
    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    own_database = database is None
    if database is None:
        database = Database(make_engine(settings.database_url,
                                        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms))
    holder = holder_name()
    scheduler = build_scheduler(settings, partial(UnitOfWork, database), holder=holder)

    def stop(signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    # APScheduler logs two INFO lines per tick of every job; ours above says what mattered.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    log.info("scheduler %s: jobs %s", holder,
             ", ".join(job.id for job in scheduler.get_jobs()) or "none")
    dispatcher = None
    if settings.policies.get("webhooks", {}).get("dispatcher", {}).get("enabled", True):
        dispatcher = Dispatcher(settings, partial(UnitOfWork, database)).start()
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        if dispatcher is not None:
            dispatcher.stop()
        if own_database:
            database.dispose()
        log.info("scheduler %s stopped", holder)
