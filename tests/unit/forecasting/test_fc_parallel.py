"""Chunks sent to other processes travel small and come back to the same forecasts."""

from __future__ import annotations

import itertools
import os
import signal

import numpy as np
import pytest

from forecasting import Planner
from forecasting.parallel import (
    MIN_PARALLEL_CHUNK,
    chunk_bounds,
    compact_units,
    map_rows,
    standing_helpers,
)
from forecasting.replenishment import safety_stock_quantile
from forecasting.synthetic import make_apparel_panel


@pytest.mark.parametrize(("top", "dtype"), [(200, np.uint8), (60_000, np.uint16),
                                            (3_000_000, np.uint32)])
def test_whole_unit_counts_travel_as_the_narrowest_integer_that_holds_them(top, dtype):
    y = np.array([[0.0, 1.0, float(top)], [7.0, 0.0, 2.0]])
    small = compact_units(y)
    assert small.dtype == dtype
    assert np.array_equal(small.astype(np.float64), y)


@pytest.mark.parametrize("odd", [0.5, -1.0, np.nan, np.inf])
def test_units_that_are_not_whole_counts_travel_as_they_are(odd):
    y = np.array([[0.0, 1.0, odd]])
    assert compact_units(y) is y


def test_chunks_never_cut_a_sku_in_two():
    sku = np.repeat(np.arange(5), [3, 1, 4, 2, 2])
    bounds = chunk_bounds(sku, 3)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(sku)
    assert all(b == c for (_, b), (c, _) in itertools.pairwise(bounds))
    assert all(a == 0 or sku[a] != sku[a - 1] for a, _ in bounds)


def _helper_pid() -> int:
    return standing_helpers(1).submit(os.getpid).result()


def test_the_helper_of_a_two_worker_run_stands_for_the_next_run():
    panel = make_apparel_panel(300, seed=9)
    args = (panel.sales, panel.returns, panel.stock, panel.items)
    Planner(*args, workers=2, chunk_size=80).fit()
    first = _helper_pid()
    Planner(*args, workers=2, chunk_size=80).fit()
    assert _helper_pid() == first


def test_a_helper_that_died_between_runs_is_replaced_and_the_forecasts_do_not_change():
    panel = make_apparel_panel(300, seed=9)
    args = (panel.sales, panel.returns, panel.stock, panel.items)
    one = Planner(*args).fit()
    Planner(*args, workers=2, chunk_size=80).fit()
    dead = _helper_pid()
    os.kill(dead, signal.SIGKILL)
    again = Planner(*args, workers=2, chunk_size=80).fit()
    assert np.array_equal(again.demand.forecast, one.demand.forecast)
    assert np.array_equal(again.replenishment.order_qty, one.replenishment.order_qty)
    assert again.diagnostics["counts"] == one.diagnostics["counts"]
    assert _helper_pid() != dead


def test_the_safety_stock_quantiles_spread_over_two_workers_are_the_same_bits():
    # The order-up-to's discrete quantiles run a block of rows at a time in this process and
    # the helper; every row's quantile must come back as one process computes it.
    rng = np.random.default_rng(4)
    n = 5 * MIN_PARALLEL_CHUNK
    mean = rng.gamma(0.5, 2.0, n)
    var = mean * rng.uniform(0.8, 4.0, n)
    level = rng.uniform(0.8, 0.99, n)
    spread = map_rows(safety_stock_quantile, (mean, var, level), workers=2)
    assert np.array_equal(spread, safety_stock_quantile(mean, var, level))
