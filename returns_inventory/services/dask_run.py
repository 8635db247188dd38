"""The nightly run's database work spread over a Dask cluster, on PostgreSQL.

Forecasting is a few seconds of the run; reading the history and writing the results are the
rest, so with only the forecast on the cluster a second worker barely helps. Here the workers
also read: the driver's read-only transaction exports its snapshot, and every partition task
adopts it (``SET TRANSACTION SNAPSHOT``), so all partitions see exactly what one read would
have, however long they take. They return compact integer arrays; the driver packs them in
catalogue order, exactly as the local executor does, and forecasts. For the write the workers
format rows into COPY text, and the driver streams each partition into its one transaction as
soon as it arrives, so a run that fails still leaves nothing behind.
"""

from __future__ import annotations

import itertools
from concurrent.futures import Executor, Future

import numpy as np

from ..persistence.bulk import copy_lines
from ..persistence.engine import make_engine, url_without_password, worker_url
from ..persistence.uow import Database, UnitOfWork
from .planning_inputs import (
    RETURN_CODES,
    ForecastConfig,
    PlanningInputs,
    last_complete_week,
    pack_inputs,
)
from .run_output import (
    RowContext,
    RowInputs,
    forecast_columns,
    result_rows,
    suggestion_columns,
)

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
    futures = [client.submit(read_partition, url, snapshot, first, last, bounds, pure=False)
               for bounds in id_ranges(ids, _workers(client))]
    parts = client.gather(futures)
    weekly = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 3), np.int64)
    returned = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, 6), np.int64)
    return pack_inputs(planning, config, as_of, catalogue, weekly.astype(np.int64),
                       returned.astype(np.int64))


def read_partition(url: str, snapshot: str, first: int, last: int,
                   item_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Weekly sales and returns of items in ``item_range``, as of the driver's snapshot."""
    if url not in _DATABASES:
        _DATABASES[url] = Database(make_engine(worker_url(url)))
    database = _DATABASES[url]
    with UnitOfWork(database) as uow:
        uow.planning.adopt_snapshot(snapshot)
        weekly = uow.planning.weekly_sales(first, last, item_range)
        returned = uow.planning.received_returns(first, last, item_range=item_range,
                                                 **RETURN_CODES)
    # Week indexes, ids and counts all fit 32 bits: half the bytes back to the driver.
    return weekly.astype(np.int32), returned.astype(np.int32)


def write_on_cluster(client, uow: UnitOfWork, ctx: RowContext, rows: RowInputs, result) -> int:
    """Forecasts and suggestions formatted by the workers, written by ``uow`` with COPY in
    partition order; returns the number of suggestions."""
    n = len(rows.item_ids)
    step = max(1, -(-n // (2 * _workers(client))))  # two per worker: one formats, one waits
    futures = [client.submit(format_partition, ctx, rows.rows(a, a + step),
                             *result_rows(result, a, a + step), pure=False)
               for a in range(0, n, step)]
    written = 0
    for future in futures:
        forecasts, suggestions = future.result()
        future.release()
        uow.planning.copy_forecasts(*forecasts)
        uow.planning.copy_suggestions(*suggestions)
        written += suggestions[2]
    return written


def format_partition(ctx: RowContext, rows: RowInputs, demand, returns, plan):
    """((columns, COPY text, rows) of forecasts, the same of suggestions) for one slice."""
    out = []
    for columns in (forecast_columns(ctx, rows, demand, returns),
                    suggestion_columns(ctx, rows, plan)):
        names = tuple(columns)
        out.append((names, copy_lines(columns), len(columns[names[0]])))
    return tuple(out)


class ScatteringExecutor(Executor):
    """Runs each call on the cluster with its arguments sent straight to one worker.

    ``client.submit(fn, *arrays)`` puts the arrays in the task graph, which travels from the
    driver to the scheduler and on to a worker; scattered first, the arrays go once, to the
    worker that then runs the task, and the graph holds only a key. Each call's data and
    result leave the cluster as soon as the result is back in the driver.
    """

    def __init__(self, client):
        self.client = client

    def submit(self, fn, /, *args, **kwargs) -> Future:
        [data] = self.client.scatter([(args, kwargs)], direct=True, hash=False)
        task = self.client.submit(_apply, fn, data, pure=False)
        answer: Future = Future()

        def settle(done) -> None:
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
