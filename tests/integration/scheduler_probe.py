"""A job for the scheduler tests: every run leaves a row, so double runs can be counted."""

from __future__ import annotations

import os
import time

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

probe_metadata = MetaData()

probe_runs = Table(
    "probe_runs",
    probe_metadata,
    Column("id", Integer, primary_key=True),
    Column("job_id", String(64), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("ran_at", DateTime(timezone=True), nullable=False),
)


def record_run(ctx) -> str:
    with ctx.uow_factory() as uow:
        uow.connection.execute(
            probe_runs.insert().values(job_id=ctx.job_id, pid=os.getpid(), ran_at=ctx.now)
        )
        uow.commit()
    return "recorded"


def record_slow_run(ctx) -> str:
    """Holds the lease a while, so the other scheduler finds it taken rather than released."""
    time.sleep(0.3)
    return record_run(ctx)


def run_requested_held(ctx) -> str:
    """The run-requested-forecasts job, its forecast held while the file named by
    PROBE_HOLD_FILE exists: a run that is certainly under way when the test kills us."""
    from returns_inventory.jobs.nightly import run_requested_forecasts
    from returns_inventory.services import forecast_runs

    hold = os.environ.get("PROBE_HOLD_FILE")
    plan = forecast_runs._plan

    def held_plan(*args, **kwargs):
        while hold and os.path.exists(hold):
            time.sleep(0.05)
        return plan(*args, **kwargs)

    forecast_runs._plan = held_plan
    try:
        return run_requested_forecasts(ctx)
    finally:
        forecast_runs._plan = plan
