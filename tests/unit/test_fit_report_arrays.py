"""The report's tests made on arrays are the tests made one family at a time: the same
p-values, q-values and flags, the same skipped groups (a planted signal keeps them honest)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from returns_inventory.domain.fit_report import CellCounts, report_tests
from returns_inventory.domain.fit_signals import (
    Tally,
    adjust_report,
    quality_tests,
    size_fit_tests,
    style_fit_tests,
)

DIRECTIONS = ("small", "large")


def _cells(rng) -> list[CellCounts]:
    """Three categories of SKUs with 1-5 sizes; thin cells, cells with nothing back, a SKU
    that sold nothing in one size, a data error (more back than sold) and planted signals."""
    cells = []
    for category in ("tops", "bottoms", "shoes"):
        for n in range(30):
            sku = f"{category}-{n:02d}"
            for size in ("XS", "S", "M", "L", "XL")[: 1 + n % 5]:
                sold = int(rng.poisson(80 if n in (3, 7) else rng.lognormal(2.5, 1.0)))
                p_small = 0.5 if n == 3 and size == "XS" else 0.05
                p_quality = 0.3 if n == 7 else 0.03
                small = int(rng.binomial(sold, p_small))
                large = int(rng.binomial(sold, 0.04)) if category != "shoes" else 0
                cells.append(CellCounts(sku, size, category, sold,
                                        {"small": small, "large": large},
                                        int(rng.binomial(sold, p_quality))))
    cells.append(CellCounts("tops-99", "M", "tops", 2, {"small": 5, "large": 0}, 0))
    return cells


def _one_family_at_a_time(cells: list[CellCounts]):
    """The method before arrays: a test per group per family, then one correction."""
    by_sku: dict[str, list[CellCounts]] = defaultdict(list)
    for c in cells:
        by_sku[c.sku].append(c)
    made = [(sku, c) for sku, group in by_sku.items() for c in size_fit_tests(
        [Tally(c.size, c.sold, 0) for c in group],
        {d: {c.size: c.fit.get(d, 0) for c in group} for d in DIRECTIONS})]
    by_category: dict[str, list[str]] = defaultdict(list)
    for sku, group in by_sku.items():
        by_category[group[0].category].append(sku)
    for skus in by_category.values():
        tallies = [Tally(s, sum(c.sold for c in by_sku[s]), 0) for s in skus]
        made += [(c.key, c) for c in style_fit_tests(tallies, {
            d: {t.key: sum(c.fit.get(d, 0) for c in by_sku[t.key]) for t in tallies}
            for d in DIRECTIONS})]
        made += [(c.key, c) for c in quality_tests(
            [Tally(t.key, t.sold, sum(c.quality for c in by_sku[t.key])) for t in tallies])]
    corrected = adjust_report([c for _, c in made])
    return {(sku, c.key, c.signal): c for (sku, _), c in zip(made, corrected, strict=True)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_tests_made_on_arrays_are_the_tests_made_one_family_at_a_time(seed):
    cells = _cells(np.random.default_rng(seed))
    expected = _one_family_at_a_time(cells)
    found = report_tests(cells, DIRECTIONS)
    got = {(sku, c.key, c.signal): c for sku, tests in found.sizes.items() for c in tests}
    got |= {(sku, c.key, c.signal): c for sku, tests in found.styles.items() for c in tests}
    got |= {(sku, c.key, c.signal): c for sku, c in found.quality.items()}
    assert found.made == len(expected) and got.keys() == expected.keys()
    for key, want in expected.items():
        c = got[key]
        assert (c.hits, c.sold, c.rest_hits, c.rest_sold, c.flagged) == (
            want.hits, want.sold, want.rest_hits, want.rest_sold, want.flagged), key
        assert c.p_value == pytest.approx(want.p_value, rel=1e-12, abs=1e-300)
        assert c.q_value == pytest.approx(want.q_value, rel=1e-12, abs=1e-300)
    # The planted signals are among the flags, so the comparison covered flags at all.
    flagged = {(sku, c.key, c.signal) for sku, tests in found.sizes.items() for c in tests
               if c.flagged}
    assert {("tops-03", "XS", "small"), ("bottoms-03", "XS", "small")} <= flagged
    assert {sku for sku, c in found.quality.items() if c.flagged} >= {"tops-07", "shoes-07"}
