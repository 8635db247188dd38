"""gunicorn hooks (`gunicorn -c python:returns_inventory.gunicorn_config`; scripts/run uses it).

Metrics in multiprocess mode keep one file per process; a worker that exits must be marked
dead, or its live gauges would go on counting in every scrape.

The objects alive once the app is loaded (the app, its modules, numpy, statsmodels) live as
long as the process: they are moved out of the garbage collector's reach (`gc.freeze()`). Left
in, every full collection walked them all: at 100,000 items one request in fifteen of the
4,000-line CSV export paid ~150 ms for it (p50 100 ms, p95 over 500 ms)."""

from __future__ import annotations

import gc


def pre_fork(server, worker) -> None:
    # The preloaded app's objects: frozen before the fork, a collection in a worker no longer
    # writes to (and so copies) the pages it shares with the others.
    gc.freeze()


def post_worker_init(worker) -> None:
    # Also what a worker loaded itself (--reload, where the app is not preloaded).
    gc.freeze()


def child_exit(server, worker) -> None:
    from returns_inventory.metrics import process_gone

    process_gone(worker.pid)
