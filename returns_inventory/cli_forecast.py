"""`returns-inventory forecast run`: the nightly job by hand, or a backfill; `forecast
clear-run`: end a run whose process is gone."""

from __future__ import annotations

import contextlib
import sys

import click
from flask.cli import with_appcontext

from .cli_import import cli_actor
from .domain.errors import DomainError
from .extensions import settings, uow_factory
from .services.forecast_runs import RunRequest, planners_today, run_forecast
from .services.run_requests import clear_run

STAGES = ("reading", "forecasting", "writing")


@click.group("forecast")
def forecast_command() -> None:
    """Forecast demand and returns, and suggest replenishment orders."""


@forecast_command.command("run")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="plan as on the morning of this date (default today); for backfills")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="processes (local) or Dask workers (LocalCluster); default from config")
@click.option("--executor", type=click.Choice(["local", "dask"]), default=None)
@click.option("--scheduler", "scheduler_address", default=None,
              help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
@with_appcontext
def forecast_run(as_of, workers, executor, scheduler_address) -> None:
    """Run the forecast and write suggestions; the previous ones stay if this fails."""
    request = RunRequest(
        as_of=as_of.date() if as_of else planners_today(settings()),
        actor=cli_actor(), trigger="cli", workers=workers, executor=executor,
        scheduler_address=scheduler_address,
    )
    # The bar starts with the first stage: a run refused up front (an as-of date before the
    # first sales week, a run already under way) prints its error alone.
    with contextlib.ExitStack() as stack:
        bars: list = []

        def advance(stage: str) -> None:
            if not bars:
                bars.append(stack.enter_context(
                    click.progressbar(length=len(STAGES), label=stage, show_pos=True)))
            bars[0].label = stage
            bars[0].update(1)

        try:
            run = run_forecast(uow_factory(), settings(), request, progress=advance)
        except DomainError as exc:
            stack.close()
            click.echo(f"error: {exc.detail}", err=True)
            sys.exit(2)
    phases = run["figures"].get("phases", {})
    click.echo(
        f"run {run['id']} {run['status']}: {run['series_count']} series, "
        f"{run['suggestion_count']} suggestions, {run['fallback_count']} fallbacks, "
        f"{run['failure_count']} failures in {phases.get('total_s', 0):.1f}s"
    )


@forecast_command.command("clear-run")
@click.argument("run_id", type=int)
@with_appcontext
def forecast_clear_run(run_id: int) -> None:
    """Mark a running or requested run failed and free its leases, when its process is gone.

    Without this, a run whose process was killed is failed as lost once its heartbeat is
    older than lost_after_seconds (config/forecasting.toml).
    """
    try:
        run = clear_run(uow_factory(), run_id, cli_actor())
    except DomainError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        sys.exit(2)
    click.echo(f"run {run['id']} {run['status']}: {run['error']}; its leases are free")
