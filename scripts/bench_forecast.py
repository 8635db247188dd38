"""Benchmark the whole forecasting pipeline on a synthetic apparel panel.

    python scripts/bench_forecast.py --series 100000 --weeks 104 [--workers 2]

Prints series/s, wall time and peak memory (this process plus its workers), then times
statsmodels ETS fitted to a sample of series one by one, for comparison per series.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecasting import run_pipeline  # noqa: E402
from forecasting.synthetic import make_apparel_panel  # noqa: E402


class PeakMemory:
    """Samples the resident memory of this process and its children every 0.2 s."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self):
        try:
            import psutil
        except ImportError:  # fall back to the kernel's own high-water mark for this process
            import resource
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        me = psutil.Process(os.getpid())
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):  # a worker may exit meanwhile
                total += child.memory_info().rss
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss())
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._tree_rss())


def statsmodels_per_series(y: np.ndarray, sample: int, seed: int) -> float:
    """Seconds per series to fit damped-trend ETS with statsmodels, one series at a time."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(y), size=min(sample, len(y)), replace=False)
    t0 = time.perf_counter()
    for i in rows:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.suppress(Exception):  # a failed fit still cost its time
                ExponentialSmoothing(y[i].astype(float) + 1e-3, trend="add", damped_trend=True,
                                     initialization_method="estimated").fit().forecast(13)
    return (time.perf_counter() - t0) / len(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--series", type=int, default=100_000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--chunk-size", type=int, default=20_000)
    ap.add_argument("--sm-sample", type=int, default=200,
                    help="series fitted one by one with statsmodels for the comparison")
    a = ap.parse_args(argv)

    load_before = os.getloadavg()[0]
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        panel = make_apparel_panel(a.series, n_weeks=a.weeks, seed=a.seed)
        t_gen = time.perf_counter() - t0
        t1 = time.perf_counter()
        result = run_pipeline(panel.sales, panel.returns, panel.stock, panel.items,
                              workers=a.workers, chunk_size=a.chunk_size)
        wall = time.perf_counter() - t1
    n = len(panel.sales.ids)
    d = result.diagnostics
    print(f"series           {n:,} ({d['n_skus']:,} SKUs, {a.weeks} weeks, "
          f"{len(panel.returns.series):,} returned units)")
    print(f"workers          {a.workers} on {os.cpu_count()} CPUs; load average before/after "
          f"{load_before:.1f} / {os.getloadavg()[0]:.1f} (other work on the box slows this)")
    print(f"generate panel   {t_gen:.1f} s (not part of the pipeline time)")
    tm = d["timings"]
    print(f"pipeline wall    {wall:.1f} s  (returns {tm['returns_s']:.1f} s, demand "
          f"{tm['demand_s']:.1f} s, replenishment {tm['replenishment_s']:.1f} s)")
    print(f"series/s         {n / wall:,.0f}")
    print(f"peak memory      {mem.peak / 2**30:.2f} GiB (process tree, generation included)")
    print(f"methods          {d['methods']}")
    print(f"fallbacks        {d['fallbacks_total']} {d['fallbacks']}")
    if a.sm_sample > 0:
        per = statsmodels_per_series(panel.sales.y, a.sm_sample, a.seed)
        ours = wall / n
        print(f"statsmodels ETS  {per * 1000:.1f} ms/series one by one on {a.sm_sample} series "
              f"-> {per * n / 60:.1f} min for {n:,} series on one core")
        print(f"pipeline         {ours * 1000:.3f} ms/series for the whole pipeline "
              f"({per / ours:.0f}x faster per series than the one-model statsmodels loop)")


if __name__ == "__main__":
    main()
