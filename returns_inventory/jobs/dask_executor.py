"""A Dask distributed client for the nightly run (its `get_executor()` for the library)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def dask_client(scheduler_address: str | None, workers: int) -> Iterator:
    """A client of the scheduler at `scheduler_address`, or of a LocalCluster of `workers`.

    Forecasting chunks are pure numpy and hold the GIL in places, so local workers are
    processes with one thread each.
    """
    from dask.distributed import Client, LocalCluster

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
