"""Run the demand step over chunks of whole SKUs, in this process or in worker processes."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait

import numpy as np

from forecasting.demand import DemandOptions, forecast_chunk


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
    y, sku, prior, kept, rate, opts, cat = args
    return forecast_chunk(y, sku - sku[0], prior, kept, rate, opts, cat)


def run_chunks(y, sku_sorted, prior, kept, rate, opts: DemandOptions, *, workers: int = 1,
               chunk_size: int = 20_000, executor: Executor | None = None, cat=None):
    """Forecast all rows (already sorted by SKU) and return stacked per-row arrays and counts.

    With ``workers > 1`` chunks go to a pool of spawned processes (spawn, not fork, so a caller
    holding threads or database connections is safe); at most two chunks per worker are in flight
    so memory stays bounded however large the panel is. An ``executor`` given by the caller (any
    :class:`concurrent.futures.Executor`, e.g. a Dask client's) is used instead of a local pool.
    """
    bounds = chunk_bounds(sku_sorted, chunk_size)
    n = len(y)
    out: dict = {}
    counts: Counter = Counter()

    def store(a, b, res):
        counts.update(res.pop("counts"))
        for key, val in res.items():
            if key not in out:
                out[key] = np.zeros((n, *val.shape[1:]), dtype=val.dtype)
            out[key][a:b] = val

    def args(a, b):
        return (y[a:b], sku_sorted[a:b], prior[a:b], kept[a:b], rate[a:b], opts,
                None if cat is None else cat[a:b])

    if executor is not None:
        _drain(executor, bounds, args, store, in_flight=2 * max(workers, 2))
        return out, counts
    if workers <= 1 or len(bounds) <= 1:
        for a, b in bounds:
            store(a, b, _job(args(a, b)))
        return out, counts
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        _drain(pool, bounds, args, store, in_flight=2 * workers)
    return out, counts


def _drain(pool: Executor, bounds, args, store, *, in_flight: int) -> None:
    """Submit chunks keeping at most ``in_flight`` pending, storing results as they finish."""
    pending = {}
    todo = iter(bounds)
    for a, b in todo:
        pending[pool.submit(_job, args(a, b))] = (a, b)
        if len(pending) >= in_flight:
            break
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            a, b = pending.pop(fut)
            store(a, b, fut.result())
            nxt = next(todo, None)
            if nxt is not None:
                pending[pool.submit(_job, args(*nxt))] = nxt
