"""gunicorn hooks (`gunicorn -c python:returns_inventory.gunicorn_config`; scripts/run uses it).

Metrics in multiprocess mode keep one file per process; a worker that exits must be marked
dead, or its live gauges would go on counting in every scrape."""

from __future__ import annotations


def child_exit(server, worker) -> None:
    from returns_inventory.metrics import process_gone

    process_gone(worker.pid)
