"""The nightly forecast, the runs requested over the web, and the webhook dispatcher."""

from __future__ import annotations

from ..integrations.webhook_http import AddressPolicy
from ..services.forecast_runs import RunRequest, planners_today, run_forecast
from ..services.run_requests import run_next_requested
from ..services.webhooks import DeliveryPolicy, deliver_due, fan_out
from .context import JobContext


def nightly_forecast(ctx: JobContext) -> str:
    """Forecast, estimate returns and suggest orders as of today in the planners' time zone."""
    today = planners_today(ctx.settings, ctx.now)
    run = run_forecast(ctx.uow_factory, ctx.settings,
                       RunRequest(as_of=today, actor=f"job:{ctx.job_id}", trigger="schedule",
                                  runner=ctx.holder or None))
    return (f"run {run['id']} {run['status']}: {run['series_count']} series, "
            f"{run['suggestion_count']} suggestions")


NO_RUN_WAITING = "no run waiting"


def run_requested_forecasts(ctx: JobContext) -> str:
    """Run the oldest forecast run requested through the API or the runs page, here."""
    run = run_next_requested(ctx.uow_factory, ctx.settings, runner=ctx.holder or None)
    if run is None:
        return NO_RUN_WAITING
    return (f"run {run['id']} {run['status']}: {run['series_count']} series, "
            f"{run['suggestion_count']} suggestions")


def deliver_webhooks(ctx: JobContext) -> str:
    """Fan new events out to the subscribed endpoints and send what is due."""
    fanned = fan_out(ctx.uow_factory)
    outcome = deliver_due(ctx.uow_factory, DeliveryPolicy.from_settings(ctx.settings),
                          addresses=AddressPolicy.from_settings(ctx.settings))
    return f"{fanned} new event(s); " + ", ".join(f"{k} {v}" for k, v in outcome.items())
