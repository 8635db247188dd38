"""A Dask distributed client for the nightly run (its `get_executor()` for the library)."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from ..domain.errors import FieldError, ValidationFailed

log = logging.getLogger(__name__)

# Dask is an optional extra (pyproject.toml): only runs on the dask executor need it, so the
# app, the scheduler and the CLI never import it before such a run.
INSTALL_DASK = "pip install -e '.[dask]'"


def dask_installed() -> bool:
    """Whether dask.distributed can be imported, without importing it (that takes seconds)."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in ("dask", "distributed"))
    except (ImportError, ValueError):  # a parent package that is broken or hidden
        return False


def dask_missing() -> ValidationFailed:
    return ValidationFailed(
        f"the dask executor needs Dask, which is not installed here: {INSTALL_DASK} "
        "(or run with executor local)",
        errors=[FieldError("executor", f"dask is not installed: {INSTALL_DASK}")])


@contextmanager
def dask_client(scheduler_address: str | None, workers: int) -> Iterator:
    """A client of the scheduler at `scheduler_address`, or of a LocalCluster of `workers`.

    Forecasting chunks are pure numpy and hold the GIL in places, so local workers are
    processes with one thread each.
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:  # asked for before dask was uninstalled, or by another host
        raise dask_missing() from exc

    cluster = None
    if scheduler_address:
        client = Client(scheduler_address)
    else:
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    log.info("forecasting on dask: %s", client)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
