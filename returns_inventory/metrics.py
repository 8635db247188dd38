"""What an operator watches: Prometheus metrics, summed over every process that serves.

Under gunicorn each worker is its own process, and the scheduler is another: with
PROMETHEUS_MULTIPROC_DIR set (scripts/run sets it) prometheus-client keeps every process's
values in files there, and a scrape of /metrics on any worker reads them all. Without it
(tests, `flask run`) the values live in this process only.

Recording is a counter increment: cheap enough for every request, import and delivery.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from .persistence.uow import COMMIT_LISTENERS

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: from a fast read (5 ms) to a large import (10 minutes).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
                    300, 600)
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)

http_requests = Histogram(
    "ri_http_request_duration_seconds",
    "Requests answered, by endpoint (the URL rule), method and status; _count is the count",
    ["endpoint", "method", "status"], buckets=DURATION_BUCKETS)
units_graded = Counter(
    "ri_units_graded", "Returned units graded (re-grades and repair outcomes too), by the "
    "disposition they went to", ["disposition"])
import_rows = Counter("ri_import_rows", "Data rows in imported files, by kind", ["kind"])
import_seconds = Histogram("ri_import_duration_seconds", "Imports that committed, by kind",
                           ["kind"], buckets=DURATION_BUCKETS)
import_failures = Counter("ri_import_failures", "Imports refused or failed (nothing written), "
                          "by kind", ["kind"])
webhook_deliveries = Counter("ri_webhook_deliveries", "Webhook delivery attempts, by outcome "
                             "(delivered, retry, failed)", ["outcome"])
webhook_lag = Histogram("ri_webhook_delivery_lag_seconds", "From the event's commit to its "
                        "successful delivery", buckets=LAG_BUCKETS)
forecast_runs = Counter("ri_forecast_runs", "Forecast runs ended, by status", ["status"])
forecast_seconds = Histogram("ri_forecast_run_duration_seconds", "Forecast runs that "
                             "succeeded, read to write", buckets=DURATION_BUCKETS)
forecast_series = Counter("ri_forecast_series", "Series forecast by runs that succeeded")
forecast_fallbacks = Counter("ri_forecast_fallbacks", "Series that fell back to the simple "
                             "model")
forecast_series_failures = Counter("ri_forecast_series_failures", "Series that failed in "
                                   "runs that succeeded")
scheduler_tick = Gauge("ri_scheduler_last_tick_timestamp_seconds", "When a scheduler last "
                       "started a job (Unix time)", multiprocess_mode="max")


def render() -> tuple[bytes, str]:
    """The exposition of every process's metrics (this one's alone without the folder)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def process_gone(pid: int) -> None:
    """gunicorn's child_exit: a dead worker's live gauges must stop counting."""
    if os.environ.get(MULTIPROC_ENV):
        _multiprocess.mark_process_dead(pid)


class Stopwatch:
    def __init__(self):
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


def _count_committed(events: list[dict]) -> None:
    """Figures read off the events a transaction committed (persistence.uow)."""
    for event in events:
        if event["event_type"] == "unit.graded":
            units_graded.labels(event["payload"].get("disposition") or "none").inc()


def forecast_run_ended(run: dict) -> None:
    """Count a run that ended (services.forecast_runs), from its record."""
    forecast_runs.labels(run.get("status") or "unknown").inc()
    if run.get("status") != "succeeded":
        return
    if run.get("started_at") and run.get("finished_at"):
        forecast_seconds.observe((run["finished_at"] - run["started_at"]).total_seconds())
    forecast_series.inc(run.get("series_count") or 0)
    forecast_fallbacks.inc(run.get("fallback_count") or 0)
    forecast_series_failures.inc(run.get("failure_count") or 0)


COMMIT_LISTENERS.append(_count_committed)
