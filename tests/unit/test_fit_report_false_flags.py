"""Fit and quality flags that do not cry wolf: on data with no signal, a report raises a flag
no more often than the level it states, and a planted signal is still found.

No signal: the outcome of every unit sold (back too small, too large, for a quality reason,
or kept) is shuffled among all units of its category, so no size, style or SKU differs from
its peers except by chance. With one correction over the whole report, the false discovery
rate on such data is the chance that a report flags anything at all: at most q = 5 %.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from returns_inventory.domain.fit_report import CellCounts, report_tests
from returns_inventory.domain.fit_signals import Q_LEVEL, Tally, fit_signals

DIRECTIONS = ("small", "large")
OUTCOMES = ("small", "large", "quality", "kept")
SIZES = ("XS", "S", "M", "L", "XL")
RUNS = 200
SKUS_PER_CATEGORY = 40
CATEGORIES = ("tops", "bottoms", "shoes")


def _catalogue(rng) -> list[tuple[str, str, str, int]]:
    """(sku, size, category, units sold): a long tail of small cells, a few large ones."""
    cells = []
    for category in CATEGORIES:
        for n in range(SKUS_PER_CATEGORY):
            scale = rng.lognormal(3.0, 1.0)
            for size in SIZES:
                cells.append((f"{category}-{n:03d}", size, category,
                              int(rng.poisson(scale)) + 1))
    return cells


def _outcomes_with_signal(cells, rng) -> list[np.ndarray]:
    """Each unit's outcome: 6 % back too small, 4 % too large, 3 % quality; the first SKU of
    each category runs small in XS and S, the second runs small as a whole style."""
    out = []
    for sku, size, _category, sold in cells:
        p = np.array([0.06, 0.04, 0.03, 0.87])
        if sku.endswith("-000") and size in ("XS", "S"):
            p = np.array([0.45, 0.02, 0.03, 0.50])
        if sku.endswith("-001"):
            p = np.array([0.30, 0.02, 0.03, 0.65])
        out.append(rng.choice(len(OUTCOMES), size=sold, p=p))
    return out


def _shuffled_within_category(cells, outcomes, rng) -> list[np.ndarray]:
    shuffled = list(outcomes)
    for category in CATEGORIES:
        rows = [i for i, c in enumerate(cells) if c[2] == category]
        pooled = rng.permutation(np.concatenate([outcomes[i] for i in rows]))
        ends = np.cumsum([len(outcomes[i]) for i in rows])
        for i, part in zip(rows, np.split(pooled, ends[:-1]), strict=True):
            shuffled[i] = part
    return shuffled


def _counts(cells, outcomes) -> list[CellCounts]:
    out = []
    for (sku, size, category, sold), units in zip(cells, outcomes, strict=True):
        back = np.bincount(units, minlength=len(OUTCOMES))
        out.append(CellCounts(sku, size, category, sold,
                              {"small": int(back[0]), "large": int(back[1])}, int(back[2])))
    return out


def _upper_bound(level: float, runs: int) -> float:
    """The level plus three binomial standard errors of a share measured over `runs` runs:
    a method at the level fails this about once in 700 suites."""
    return level + 3 * math.sqrt(level * (1 - level) / runs)


@pytest.fixture(scope="module")
def null_reports():
    rng = np.random.default_rng(20261205)
    cells = _catalogue(rng)
    outcomes = _outcomes_with_signal(cells, rng)
    return cells, [_counts(cells, _shuffled_within_category(cells, outcomes, rng))
                   for _ in range(RUNS)]


def test_on_data_with_no_signal_a_report_flags_anything_at_most_at_the_stated_rate(
        null_reports):
    _cells, runs = null_reports
    with_a_flag = sum(bool(report_tests(counts, DIRECTIONS).flagged()) for counts in runs)
    assert with_a_flag / RUNS <= _upper_bound(Q_LEVEL, RUNS), (
        f"{with_a_flag} of {RUNS} reports raised a flag on data with no signal")


def test_a_correction_per_sku_fails_the_same_check(null_reports):
    # The same permutations judged the old way (one family per SKU): the check above can fail.
    _cells, runs = null_reports
    with_a_flag = 0
    for counts in runs[:50]:
        by_sku: dict[str, list[CellCounts]] = {}
        for c in counts:
            by_sku.setdefault(c.sku, []).append(c)
        with_a_flag += any(
            t.flagged for group in by_sku.values()
            for t in fit_signals([Tally(c.size, c.sold, 0) for c in group],
                                 {d: {c.size: c.fit[d] for c in group} for d in DIRECTIONS}))
    assert with_a_flag / 50 > _upper_bound(Q_LEVEL, 50)


def test_planted_signals_are_still_found_by_size_and_by_style():
    rng = np.random.default_rng(7)
    cells = _catalogue(rng)
    # Large enough to be seen: the planted SKUs sell 200 units a size.
    cells = [(s, z, c, 200 if s.endswith(("-000", "-001")) else n) for s, z, c, n in cells]
    tests = report_tests(_counts(cells, _outcomes_with_signal(cells, rng)), DIRECTIONS)
    flagged = {(c.key, c.signal) for c in tests.flagged()}
    for category in CATEGORIES:
        assert ("XS", "small") in {(c.key, c.signal) for c in tests.sizes[f"{category}-000"]
                                   if c.flagged}
        assert (f"{category}-001", "style_small") in flagged
    planted = {f"{c}-00{n}" for c in CATEGORIES for n in (0, 1)}
    elsewhere = [c for sku, made in tests.sizes.items() if sku not in planted for c in made
                 if c.flagged]
    elsewhere += [c for sku, made in tests.styles.items() if sku not in planted for c in made
                  if c.flagged]
    elsewhere += [c for c in tests.quality.values() if c.flagged]  # none planted
    assert len(elsewhere) <= 1
