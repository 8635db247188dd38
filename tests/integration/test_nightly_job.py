"""The scheduler's nightly job runs the forecast; its time comes from forecasting.toml."""

from __future__ import annotations

from datetime import UTC, datetime

from returns_inventory.jobs.context import JobContext
from returns_inventory.jobs.nightly import nightly_forecast
from returns_inventory.jobs.scheduler import job_specs
from returns_inventory.settings import Settings
from tests.integration.test_forecast_run import app_settings, history  # noqa: F401


def test_the_nightly_run_is_scheduled_at_two_in_the_planners_time_zone():
    [nightly] = [s for s in job_specs(Settings.load(env={})) if s.id == "nightly-forecast"]
    assert str(nightly.trigger.timezone) == "Europe/London"
    fields = {f.name: str(f) for f in nightly.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "0")
    assert nightly.misfire_grace_seconds == 3600


def test_the_nightly_job_records_a_scheduled_run(uow_factory, history, app_settings):  # noqa: F811
    context = JobContext("nightly-forecast", app_settings, uow_factory,
                         datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    summary = nightly_forecast(context)
    assert "succeeded" in summary
    with uow_factory() as uow:
        [run], _ = uow.planning.list_runs(offset=0, limit=5)
    assert (run["trigger"], run["actor"], run["as_of"].isoformat()) == (
        "schedule", "job:nightly-forecast", "2026-11-23")
