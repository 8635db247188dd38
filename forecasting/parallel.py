"""Run the demand step over chunks of whole SKUs, in this process or in worker processes.

Sending a chunk to another process costs CPU on both sides (pickling, the pipe or socket),
which a second worker must earn back, so what travels is kept small: the weekly units go as
the narrowest integer type that holds them exactly (they are counts; the kernel reads them
back as float64, so the forecasts are the same to the bit), and with ``workers=2`` this
process forecasts chunks itself beside one helper process instead of waiting on two.

The helpers stand between calls (see :func:`standing_helpers`): a helper started for the
call came up seconds into the demand step (a fork, the imports of the caller's main module,
statsmodels on the first big series), so at 100,000 series the driver had forecast most
chunks alone by then and a second worker gained nothing.
"""

from __future__ import annotations

import atexit
import multiprocessing
import threading
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from forecasting.demand import DemandOptions, forecast_chunk
from forecasting.panel import compact_units
from forecasting.spread import WindowOrigins

# Chunks per process when several share the work: enough that the last one to finish waits
# on at most a small chunk, few enough that each stays a vectorised batch.
CHUNKS_PER_WORKER = 4
# Blocks per worker of a row-wise step (map_rows) on an executor: each is a round trip through
# the cluster (scatter, task, result) for a few hundredths of a second of work, so fewer than
# the local pool's, whose blocks cost a pipe's write.
EXECUTOR_ROW_PARTS = 2
# The least rows worth a chunk of their own when splitting for several processes.
MIN_PARALLEL_CHUNK = 2_000


def chunk_bounds(sku_sorted: np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """Row ranges of about ``chunk_size`` rows that never cut a SKU in two."""
    n = len(sku_sorted)
    if n == 0:
        return []
    starts = np.flatnonzero(np.r_[True, sku_sorted[1:] != sku_sorted[:-1]])
    bounds, a = [], 0
    while a < n:
        # first SKU start at or after a + chunk_size (or the end)
        j = np.searchsorted(starts, a + max(chunk_size, 1))
        b = int(starts[j]) if j < len(starts) else n
        bounds.append((a, b))
        a = b
    return bounds


def _job(args):
    y, sku, prior, kept, rate, opts, cat, weeks, window = args
    return forecast_chunk(y, sku - sku[0], prior, kept, rate, opts, cat, weeks, window)


def run_chunks(y, sku_sorted, prior, kept, rate, opts: DemandOptions, *, workers: int = 1,
               chunk_size: int = 20_000, executor: Executor | None = None, cat=None,
               weeks=None, window: WindowOrigins | None = None):
    """Forecast all rows (already sorted by SKU) and return stacked per-row arrays and counts.

    With ``weeks`` (L+R per row) and ``window``, each chunk also measures its rows' window
    errors for the spread (:func:`forecasting.forecast_chunk`), so that work, the costliest
    of the spread, runs in the workers beside the forecasts instead of in this process after.

    With ``workers > 1`` this process and ``workers - 1`` helper processes share the chunks.
    Helpers are forked from a fork server (started once per process, with numpy, scipy and
    statsmodels already imported), never from this process, so a caller holding threads or
    database connections is safe; each helper holds one chunk at a time so memory stays
    bounded however large the panel is. An ``executor`` given by the caller (any
    :class:`concurrent.futures.Executor`, e.g. a Dask client's) runs every chunk instead; each
    is sent with its units compacted. The answer is the same whatever the workers and chunks.
    """
    n = len(y)
    remote = executor is not None or workers > 1
    if remote:
        chunk_size = min(chunk_size, max(MIN_PARALLEL_CHUNK,
                                         -(-n // (CHUNKS_PER_WORKER * max(workers, 1)))))
    bounds = chunk_bounds(sku_sorted, chunk_size)
    out: dict = {}
    counts: Counter = Counter()

    def store(a, b, res):
        counts.update(res.pop("counts"))
        for key, val in res.items():
            if key not in out:
                out[key] = np.zeros((n, *val.shape[1:]), dtype=val.dtype)
            out[key][a:b] = val

    def args(a, b, *, compact=False):
        units = compact_units(y[a:b]) if compact else y[a:b]
        return (units, sku_sorted[a:b], prior[a:b], kept[a:b], rate[a:b], opts,
                None if cat is None else cat[a:b], None if weeks is None else weeks[a:b],
                window)

    if executor is not None:
        _drain(executor, bounds, lambda a, b: args(a, b, compact=True), store,
               in_flight=2 * max(workers, 2))
    elif workers <= 1 or len(bounds) <= 1:
        for a, b in bounds:
            store(a, b, _job(args(a, b)))
    else:
        try:
            _share(standing_helpers(workers - 1), bounds, args, store, helpers=workers - 1)
        except BrokenProcessPool:
            # A standing helper died since the last call (killed, out of memory): the whole
            # step once more on fresh helpers, so the counts are not added twice.
            out.clear()
            counts.clear()
            _share(standing_helpers(workers - 1, fresh=True), bounds, args, store,
                   helpers=workers - 1)
    return out, counts


def map_rows(fn, arrays, *, workers: int = 1, executor: Executor | None = None) -> np.ndarray:
    """``fn(*arrays)`` for a function that works row by row (each row's answer its own), run a
    block of rows at a time by this process and its standing helpers, or on ``executor``.

    For the row-wise steps after the demand chunks that cost the driver most (the discrete
    quantiles of the safety stock): what a step costs in one process bounds what a second
    worker can gain. The answer is the same bits however the rows are split.
    """
    n = len(arrays[0])
    parts = (EXECUTOR_ROW_PARTS if executor is not None else CHUNKS_PER_WORKER) * max(workers, 2)
    if (executor is None and workers <= 1) or n < 2 * MIN_PARALLEL_CHUNK:
        return fn(*arrays)
    size = max(MIN_PARALLEL_CHUNK, -(-n // parts))
    bounds = [(a, min(a + size, n)) for a in range(0, n, size)]
    out: list = [None] * len(bounds)
    where = {a: k for k, (a, _) in enumerate(bounds)}

    def store(a, _b, res):
        out[where[a]] = res

    def args(a, b, *, compact=False):
        return (fn, *(x[a:b] for x in arrays))

    if executor is not None:
        _drain(executor, bounds, args, store, in_flight=2 * max(workers, 2), job=_rows_job)
    else:
        try:
            _share(standing_helpers(workers - 1), bounds, args, store, helpers=workers - 1,
                   job=_rows_job)
        except BrokenProcessPool:  # a helper died: this process does the step alone
            return fn(*arrays)
    return np.concatenate(out)


def _rows_job(args):
    fn, *arrays = args
    return fn(*arrays)


# Helper pools by size, kept for this process's later calls (a nightly scheduler runs one a
# night; a helper idles at the size of its imports), shut down when the process exits.
_STANDING: dict[int, ProcessPoolExecutor] = {}
_STANDING_LOCK = threading.Lock()


def standing_helpers(count: int, *, fresh: bool = False) -> ProcessPoolExecutor:
    """A pool of ``count`` helper processes, started now and kept for later calls.

    Call it ahead of the demand step (e.g. when a run starts reading) so the helpers are up,
    with the kernels imported, by the time there are chunks to hand them. A pool whose helper
    died is replaced, and so is any with ``fresh``.
    """
    with _STANDING_LOCK:
        pool = _STANDING.get(count)
        if pool is None or fresh or getattr(pool, "_broken", False):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            pool = ProcessPoolExecutor(max_workers=count, mp_context=_helpers())
            for _ in range(count):  # each submit while none is idle starts one helper
                pool.submit(_ready)
            _STANDING[count] = pool
        return pool


def _ready() -> None:
    """Nothing: the helper that runs it has started and imported the kernels."""


@atexit.register
def _close_standing() -> None:
    with _STANDING_LOCK:
        for pool in _STANDING.values():
            pool.shutdown(wait=False, cancel_futures=True)
        _STANDING.clear()


def _helpers():
    """The fork server context (spawn where there is none), loaded with the kernels, the
    statsmodels fit the biggest series try, and the caller's main module (else every helper
    imports it again, e.g. the whole service for the CLI)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "forecasting.demand",
                                "statsmodels.tsa.holtwinters"])
    return ctx


def _share(pool: Executor, bounds, args, store, *, helpers: int, job=_job) -> None:
    """Chunks from the front go to the helpers, one each at a time; this process takes
    chunks from the back in between, so neither side waits while work is left."""
    todo = deque(bounds)
    pending: dict[Future, tuple[int, int]] = {}

    def hand_out() -> None:
        while todo and len(pending) < helpers:
            a, b = todo.popleft()
            pending[pool.submit(job, args(a, b, compact=True))] = (a, b)

    hand_out()
    while todo or pending:
        if todo:
            a, b = todo.pop()
            store(a, b, job(args(a, b)))
        done, _ = wait(pending, timeout=0 if todo else None, return_when=FIRST_COMPLETED)
        for fut in done:
            store(*pending.pop(fut), fut.result())
        hand_out()


def _drain(pool: Executor, bounds, args, store, *, in_flight: int, job=_job) -> None:
    """Submit chunks keeping at most ``in_flight`` pending, storing results as they finish."""
    pending = {}
    todo = iter(bounds)
    for a, b in todo:
        pending[pool.submit(job, args(a, b))] = (a, b)
        if len(pending) >= in_flight:
            break
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            a, b = pending.pop(fut)
            store(a, b, fut.result())
            nxt = next(todo, None)
            if nxt is not None:
                pending[pool.submit(job, args(*nxt))] = nxt
