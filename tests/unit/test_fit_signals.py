"""The statistics behind the fit and quality signals, checked against hand-worked numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import fisher_exact

from returns_inventory.domain.fit_signals import (
    TEST,
    Comparison,
    Tally,
    benjamini_hochberg,
    compare_with_rest,
    excess_p_value,
    excess_p_values,
    fit_signals,
    median_of_counts,
    quality_signals,
)


def test_the_fisher_p_value_is_the_hypergeometric_tail():
    # 3 of 3 against 0 of 3: only one of the C(6,3) = 20 equally likely tables is as extreme.
    assert excess_p_value(3, 3, 0, 3) == pytest.approx(1 / 20)
    # One-sided: a share BELOW the rest is no evidence at all of running small.
    assert excess_p_value(0, 3, 3, 3) == pytest.approx(1.0)


def test_the_p_values_of_many_tables_at_once_are_scipys_fisher_exact_tests():
    """Small tables and SKUs against categories of tens of thousands of units sold, flagged
    and not; every table checked against scipy's own test of it."""
    rng = np.random.default_rng(5)
    n = 400
    sold = np.concatenate([rng.integers(1, 12, n), rng.integers(1, 300, n)])
    rest_sold = np.concatenate([rng.integers(1, 40, n), rng.integers(1, 70_000, n)])
    share = rng.uniform(0.0, 0.3, 2 * n)
    hits = rng.binomial(sold, np.minimum(1.0, share * rng.uniform(0.3, 4.0, 2 * n)))
    rest_hits = rng.binomial(rest_sold, share)
    got = excess_p_values(hits, sold, rest_hits, rest_sold)
    want = [fisher_exact([[h, s - h], [rh, rs - rh]], alternative="greater").pvalue
            for h, s, rh, rs in zip(hits, sold, rest_hits, rest_sold, strict=True)]
    assert got == pytest.approx(want, rel=1e-9, abs=1e-300)
    assert got.min() < 1e-12 and (got == 1.0).any()  # far tails and certain ones among them


def test_benjamini_hochberg_adjusts_by_rank_and_keeps_the_order_monotone():
    family = [
        Comparison(k, "small", 1, 2, 1, 2, p)
        for k, p in [("a", 0.01), ("b", 0.04), ("c", 0.03), ("d", 0.5)]
    ]
    adjusted = benjamini_hochberg(family)
    assert [c.q_value for c in adjusted] == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert [c.flagged for c in adjusted] == [True, False, False, False]
    assert benjamini_hochberg([]) == []


def test_each_group_is_compared_with_the_rest_pooled():
    [s, m, large] = compare_with_rest(
        [Tally("S", 20, 12), Tally("M", 20, 1), Tally("L", 20, 1)], "small"
    )
    assert (s.hits, s.sold, s.rest_hits, s.rest_sold) == (12, 20, 2, 40)
    assert (s.share, s.rest_share) == (0.6, 0.05)
    assert s.p_value == pytest.approx(excess_p_value(12, 20, 2, 40))
    assert s.p_value < 1e-5 and m.p_value > 0.5 and large.p_value > 0.5


def test_groups_that_cannot_be_compared_are_not_tested():
    assert compare_with_rest([Tally("S", 20, 0), Tally("M", 20, 0)], "small") == []
    assert compare_with_rest([Tally("S", 20, 5)], "small") == []  # no other size sold
    tested = compare_with_rest([Tally("S", 0, 0), Tally("M", 10, 2), Tally("L", 10, 0)], "small")
    assert [c.key for c in tested] == ["M", "L"]


def test_more_returns_than_sales_are_capped_so_the_table_stays_valid():
    [over, _] = compare_with_rest([Tally("S", 2, 5), Tally("M", 10, 0)], "small")
    assert over.hits == 2


def test_a_size_running_small_is_flagged_and_its_neighbours_are_not():
    sizes = [Tally("S", 20, 0), Tally("M", 20, 0), Tally("L", 20, 0)]
    family = fit_signals(sizes, {"small": {"S": 12, "M": 1, "L": 1}, "large": {"L": 1}})
    flagged = [(c.key, c.signal) for c in family if c.flagged]
    assert flagged == [("S", "small")]
    assert len(family) == 6  # both directions, every size: one family


def test_a_handful_of_returns_is_not_enough_to_flag_a_size():
    sizes = [Tally("S", 5, 0), Tally("M", 5, 0)]
    assert not any(c.flagged for c in fit_signals(sizes, {"small": {"S": 2}}))


def test_the_correction_makes_a_borderline_size_unflagged_in_a_big_family():
    # p about 0.03 alone; among eight sizes tested in both directions it is not significant.
    alone = excess_p_value(6, 20, 15, 140)
    assert 0.01 < alone < 0.05
    sizes = [Tally(str(n), 20, 0) for n in range(8)]
    family = fit_signals(
        sizes,
        {
            "small": {"0": 6, **{str(n): 2 for n in range(1, 8)}},
            "large": {str(n): 1 for n in range(8)},
        },
    )
    assert not any(c.flagged for c in family)


def test_a_sku_with_a_high_quality_share_stands_out_in_its_category():
    family = quality_signals([Tally("BAD", 20, 8), Tally("OK", 40, 0), Tally("FIT", 60, 1)])
    assert [(c.key, c.flagged) for c in family] == [("BAD", True), ("OK", False), ("FIT", False)]


def test_the_response_names_the_test_it_used():
    assert TEST == ("one-sided Fisher exact, one Benjamini-Hochberg over every test in the "
                    "report, q<0.05")


@pytest.mark.parametrize(
    ("counts", "median"),
    [
        ({}, None),
        ({7: 0}, None),
        ({10: 1}, 10),
        ({10: 12, 20: 5}, 10),
        ({3: 1, 5: 1}, 4),
        ({1: 2, 9: 2}, 5),
        ({1: 1, 2: 1, 30: 1}, 2),
    ],
)
def test_the_median_is_read_from_a_histogram(counts, median):
    assert median_of_counts(counts) == median


def test_the_family_p_values_equal_a_fisher_test_per_group():
    rng = np.random.default_rng(3)
    tallies = [Tally(str(n), int(s), int(rng.integers(0, s + 1)))
               for n, s in enumerate(rng.integers(1, 300, size=60))]
    total_sold, total_hits = sum(t.sold for t in tallies), sum(t.hits for t in tallies)
    for c, t in zip(compare_with_rest(tallies, "quality"), tallies, strict=True):
        expected = excess_p_value(t.hits, t.sold, total_hits - t.hits, total_sold - t.sold)
        assert c.p_value == pytest.approx(expected, rel=1e-9, abs=1e-300)
