"""Chunks sent to other processes travel small and come back to the same forecasts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from forecasting.parallel import chunk_bounds, compact_units


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
