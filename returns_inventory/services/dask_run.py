"""The nightly run's database work spread over a Dask cluster, on PostgreSQL.

Forecasting is a few seconds of the run; reading the history and writing the results are the
rest, so with only the forecast on the cluster a second worker barely helps. Here the workers
also read: the driver's read-only transaction exports its snapshot, and every partition task
adopts it (``SET TRANSACTION SNAPSHOT``), so all partitions see exactly what one read would
have, however long they take. They return the weekly sales as compact integer arrays, and
their returned units already counted per series (the library's ``count_returns``, which the
local executor's forecast does in the driver: serial work a second worker could not share);
the driver packs them in catalogue order and forecasts, each chunk's arrays scattered to the
worker that forecasts it. The driver writes, as the local executor does:
sending the results to workers to be formatted and the text back cost more CPU than
formatting them here (a 72 MiB graph per partition at 100,000 series).
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import Executor, Future

import numpy as np

from forecasting.panel import ReturnsData
from forecasting.returns import ReturnCounts, count_returns

from ..persistence.engine import make_engine, url_without_password, worker_url
from ..persistence.uow import Database, UnitOfWork
from .planning_inputs import (
    RETURN_CODES,
    ForecastConfig,
    PlanningInputs,
    last_complete_week,
    pack_inputs,
)
from .planning_panel import RETURN_DTYPES

# One engine per worker process and database, kept between tasks and runs.
_DATABASES: dict[str, Database] = {}


def can_share(uow: UnitOfWork) -> bool:
    """Whether other sessions can read what this unit of work reads: PostgreSQL, and not a
    savepoint inside someone's open transaction (whose rows nobody else can see)."""
    return uow.dialect == "postgresql" and not uow.connection.in_nested_transaction()


def read_on_cluster(client, uow: UnitOfWork, config: ForecastConfig, as_of) -> PlanningInputs:
    """Read the run's inputs with the big sets split by item over the cluster's workers.

    ``uow`` must be the run's read transaction (one snapshot, see ``read_one_snapshot``); it
    reads the catalogue and the small sets itself.
    """
    planning = uow.planning
    planning.read_one_snapshot()
    snapshot = planning.export_snapshot()
    # Task arguments cross the network to a remote scheduler: never the password (see
    # worker_url for where a worker finds it).
    url = url_without_password(uow.connection.engine)
    last = last_complete_week(as_of)
    first = last - config.history_weeks + 1
    catalogue = planning.planning_items()
    ids = np.sort(np.fromiter((r.id for r in catalogue), np.int64, len(catalogue)))
    futures = [client.submit(read_partition, url, snapshot, first, last, bounds,
                             config.return_window_weeks, pure=False)
               for bounds in id_ranges(ids, _workers(client))]
    parts = client.gather(futures)
    weekly = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 3), np.int64)
    counted = [(p[1], p[2]) for p in parts]
    return pack_inputs(planning, config, as_of, catalogue, weekly.astype(np.int64),
                       counted=counted)


def read_partition(url: str, snapshot: str, first: int, last: int, item_range: tuple[int, int],
                   window: int) -> tuple[np.ndarray, np.ndarray, ReturnCounts]:
    """Sales lines of items in ``item_range``, as of the driver's snapshot, and their returned
    units counted per item: the weekly rows, the ids of the items with returns, their counts.

    Sales are not summed, as the local executor reads them: grouping millions of rows, nearly
    all alone in their item and week, doubled the database's CPU of the read, and the driver's
    packing adds rows up anyway. The returns are counted here, for this partition's items
    only (the counts of the whole panel are these side by side, the same bits), instead of
    travelling as rows for the driver to count alone.
    """
    if url not in _DATABASES:
        _DATABASES[url] = Database(make_engine(worker_url(url)))
    database = _DATABASES[url]
    with UnitOfWork(database) as uow:
        uow.planning.adopt_snapshot(snapshot)
        # Week indexes, ids and counts all fit 32 bits: half the bytes back to the driver.
        weekly = _joined(uow.planning.sales_blocks(first, last, item_range), 3)
        returned = _joined(uow.planning.received_returns_blocks(
            first, last, item_range, **RETURN_CODES), 6)
    item_ids, at = np.unique(returned[:, 0], return_inverse=True)
    rows = ReturnsData(*(values.astype(dtype) for values, dtype in zip(
        (at.reshape(-1), *returned[:, 1:].T), RETURN_DTYPES, strict=True)))
    return weekly, item_ids, count_returns(rows, len(item_ids), last_week=last, window=window)


def _joined(blocks, columns: int) -> np.ndarray:
    parts = [block.astype(np.int32) for block in blocks]
    return np.concatenate(parts) if parts else np.zeros((0, columns), np.int32)


class ScatteringExecutor(Executor):
    """Runs each call on the cluster with its arguments sent straight to one worker.

    ``client.submit(fn, *arrays)`` puts the arrays in the task graph, which travels from the
    driver to the scheduler and on to a worker; scattered first, the arrays go once, to the
    worker that then runs the task, and the graph holds only a key. Each call goes to the
    worker with the fewest calls in hand (a scatter left to Dask put every chunk on the same
    one), and its data and result leave the cluster as soon as the result is back.
    """

    def __init__(self, client):
        self.client = client
        self.in_hand = dict.fromkeys(client.scheduler_info().get("workers", {}), 0)
        self.lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self.lock:
            worker = min(self.in_hand, key=self.in_hand.__getitem__) if self.in_hand else None
            if worker is not None:
                self.in_hand[worker] += 1
        where = [worker] if worker is not None else None
        [data] = self.client.scatter([(args, kwargs)], direct=True, hash=False, workers=where)
        task = self.client.submit(_apply, fn, data, pure=False, workers=where,
                                  allow_other_workers=True)
        answer: Future = Future()

        def settle(done) -> None:
            if worker is not None:
                with self.lock:
                    self.in_hand[worker] -= 1
            try:
                answer.set_result(done.result())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's future
                answer.set_exception(exc)

        task.add_done_callback(settle)
        return answer


def _apply(fn, data):
    args, kwargs = data
    return fn(*args, **kwargs)


def id_ranges(sorted_ids: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """``parts`` half-open id ranges holding about as many items each, covering every id."""
    if not len(sorted_ids):
        return []
    cuts = [int(sorted_ids[k * len(sorted_ids) // parts]) for k in range(1, parts)]
    edges = [int(sorted_ids[0]), *sorted(set(cuts)), int(sorted_ids[-1]) + 1]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _workers(client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))
