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


# What a LocalCluster's worker processes are started with. Dask's defaults suit interactive
# work; for a batch of numpy kernels they cost CPU the local executor never spends:
# - the statistical profiler samples every worker's stack every 10 ms, busy or idle (idle,
#   0.39 of 0.45 core-seconds per 20 s; busy, it takes the GIL from the kernel 100 times a
#   second);
# - the event-loop watchdog ticks every 20 ms in the scheduler, nannies and workers;
# - MALLOC_TRIM_THRESHOLD_ in the workers' environment turns off glibc's adaptive mmap
#   threshold, so every large numpy temporary is mapped and faulted in afresh (at 20,000
#   series the worker spent 1.5x the CPU on the same chunks with it).
# A cluster started elsewhere (--scheduler) should be given the same settings.
CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}


def cluster_config() -> dict:
    """CLUSTER_CONFIG, with the workers' environment left without MALLOC_TRIM_THRESHOLD_."""
    import dask

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    return {**CLUSTER_CONFIG, "distributed.nanny.pre-spawn-environ": environ}


def local_cluster(workers: int):
    """A LocalCluster of ``workers`` single-threaded worker processes, configured for batch
    numpy work (see CLUSTER_CONFIG)."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set(cluster_config()):
        return LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                            dashboard_address=None)


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
        from dask.distributed import Client
    except ImportError as exc:  # asked for before dask was uninstalled, or by another host
        raise dask_missing() from exc

    cluster = None
    if scheduler_address:
        client = Client(scheduler_address)
    else:
        cluster = local_cluster(workers)
        client = Client(cluster)
    log.info("forecasting on dask: %s", client)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
