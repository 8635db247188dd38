"""Product feedback from returns: which sizes run small or large, which SKUs break too often.

Every signal asks the same question of a count table: is this group's share of units sold
that came back for the reasons under test larger than the share of the rest of its peers? The
answer is a one-sided Fisher exact test per group (exact, so small counts are fine).

- Size fit: each size of a SKU against the other sizes of the same SKU; `too_small` returns
  for "runs small" and `too_large` returns for "runs large" (the reasons the policy marks with
  `fit`), both directions.
- Style fit: each SKU (all its sizes) against the other SKUs of its category, both directions:
  the whole style runs small or large, which a size-against-size test cannot see.
- Quality: each SKU against the other SKUs of its category; the quality reasons.

A report runs thousands of such tests at once. One Benjamini-Hochberg correction over every
test in the report (`adjust_report`) keeps the expected share of false flags among all the
flags it raises at or below 5%; on data with no signal at all, that means a report raises any
flag at all in at most 5% of cases. A correction per SKU (as before) gave every SKU its own
5% and, over thousands of SKUs, dozens of false flags per report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import gammaln
from scipy.stats import false_discovery_control

Q_LEVEL = 0.05
TEST = "one-sided Fisher exact, one Benjamini-Hochberg over every test in the report, q<0.05"


@dataclass(frozen=True)
class Tally:
    """One group's units sold and how many of them came back for the reasons under test."""

    key: str  # the size (fit) or the SKU (quality)
    sold: int
    hits: int


@dataclass(frozen=True)
class Comparison:
    """One group against the pooled rest of its peers, and what the test made of it."""

    key: str
    signal: str  # "small", "large" or "quality"
    hits: int
    sold: int
    rest_hits: int
    rest_sold: int
    p_value: float
    q_value: float = 1.0
    flagged: bool = False

    @property
    def share(self) -> float:
        return self.hits / self.sold

    @property
    def rest_share(self) -> float:
        return self.rest_hits / self.rest_sold


def excess_p_value(hits: int, sold: int, rest_hits: int, rest_sold: int) -> float:
    """P-value of the one-sided Fisher exact test that hits/sold exceeds rest_hits/rest_sold."""
    return float(excess_p_values([hits], [sold], [rest_hits], [rest_sold])[0])


def excess_p_values(hits, sold, rest_hits, rest_sold) -> np.ndarray:
    """The same test for many tables at once: P(X >= hits) for X hypergeometric, drawing the
    group's units sold from all units sold, of which all the hits are marked (what scipy's
    `fisher_exact(alternative="greater")` computes one table at a time, to 1e-9 or closer).

    The upper tail is summed term by term, all tables together: the first term from log
    binomials, each next one from the last by the ratio of consecutive probabilities, in units
    of the first (so a tail far below the smallest float still sums right). scipy's
    `hypergeom.sf` took 16 s for the 20,000 quality tests of a report of 100,000 items (a
    category of 60,000 units sold): it sums each table's tail again from factorials."""
    hits, sold, rest_hits, rest_sold = (np.asarray(a, dtype=np.int64)
                                        for a in (hits, sold, rest_hits, rest_sold))
    marked, drawn = hits + rest_hits, sold
    unmarked = sold + rest_sold - marked
    # X ranges over [low, high]: hits at or below low are certain, above high impossible.
    low = np.maximum(0, drawn - unmarked)
    high = np.minimum(drawn, marked)
    p = np.where(hits <= low, 1.0, 0.0)
    tail = np.flatnonzero((hits > low) & (hits <= high))
    if len(tail):
        p[tail] = _upper_tail(hits[tail], drawn[tail], marked[tail], unmarked[tail],
                              high[tail])
    return np.clip(p, 0.0, 1.0)


def _upper_tail(k, drawn, marked, unmarked, high) -> np.ndarray:
    """sum over x = k..high of P(X = x), for tables whose k lies inside the support."""
    k, drawn, marked, unmarked, high = (a.astype(float) for a in
                                        (k, drawn, marked, unmarked, high))
    log_first = (_log_choose(marked, k) + _log_choose(unmarked, drawn - k)
                 - _log_choose(marked + unmarked, drawn))
    term, total = np.ones(len(k)), np.ones(len(k))
    x, live = k.copy(), np.arange(len(k))
    mode = np.floor((drawn + 1) * (marked + 1) / (marked + unmarked + 2))
    while len(live):
        # P(X = x + 1) / P(X = x), for the tables whose tail goes on past x.
        xs = x[live]
        term[live] *= ((marked[live] - xs) * (drawn[live] - xs)
                       / ((xs + 1) * (unmarked[live] - drawn[live] + xs + 1)))
        total[live] += term[live]
        x[live] += 1
        # Done at the top of the support, or once the terms (falling past the mode) no
        # longer change the sum.
        going = (x[live] < high[live]) & ~((term[live] < 1e-17 * total[live])
                                            & (x[live] > mode[live]))
        live = live[going]
    return np.exp(log_first + np.log(total))


def _log_choose(n, k) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def compare_with_rest(tallies: Sequence[Tally], signal: str) -> list[Comparison]:
    """Test each group against the others pooled; groups that cannot be compared are skipped.

    A group is testable when it and the rest both sold something and the reasons under test
    occurred at all among the peers; otherwise every p-value would be 1 and only dilute the
    correction. Hits above units sold (a data error) are capped so the table stays valid.
    """
    groups = [replace(t, hits=max(0, min(t.hits, t.sold))) for t in tallies if t.sold > 0]
    total_sold = sum(t.sold for t in groups)
    total_hits = sum(t.hits for t in groups)
    if total_hits == 0:
        return []
    groups = [g for g in groups if total_sold - g.sold > 0]
    p_values = excess_p_values([g.hits for g in groups], [g.sold for g in groups],
                               [total_hits - g.hits for g in groups],
                               [total_sold - g.sold for g in groups])
    return [Comparison(g.key, signal, g.hits, g.sold, total_hits - g.hits,
                       total_sold - g.sold, float(p))
            for g, p in zip(groups, p_values, strict=True)]


def benjamini_hochberg(family: Sequence[Comparison], q: float = Q_LEVEL) -> list[Comparison]:
    """Adjust the p-values of one family of tests and flag those whose q-value is below q.
    For a report, the family is every test in it (`adjust_report`)."""
    if not family:
        return []
    adjusted = false_discovery_control([c.p_value for c in family], method="bh")
    return [
        replace(c, q_value=float(qv), flagged=bool(qv < q))
        for c, qv in zip(family, adjusted, strict=True)
    ]


def size_fit_tests(
    sizes: Sequence[Tally], returned: Mapping[str, Mapping[str, int]]
) -> list[Comparison]:
    """The sizes of one SKU tested in every fit direction, not yet corrected.

    `sizes` carries units sold per size (its `hits` are ignored); `returned` maps each fit
    direction ("small", "large") to the units returned per size for that direction's reasons.
    """
    return [
        comparison
        for direction, by_size in returned.items()
        for comparison in compare_with_rest(
            [Tally(t.key, t.sold, by_size.get(t.key, 0)) for t in sizes], direction
        )
    ]


def style_fit_tests(
    skus: Sequence[Tally], returned: Mapping[str, Mapping[str, int]]
) -> list[Comparison]:
    """The SKUs of one category tested for a whole style running small or large against the
    rest of the category, not yet corrected (signals "style_small", "style_large")."""
    return [
        comparison
        for direction, by_sku in returned.items()
        for comparison in compare_with_rest(
            [Tally(t.key, t.sold, by_sku.get(t.key, 0)) for t in skus], f"style_{direction}"
        )
    ]


def quality_tests(skus: Sequence[Tally]) -> list[Comparison]:
    """The SKUs of one category tested for a quality-return share above their peers, not yet
    corrected."""
    return compare_with_rest(skus, "quality")


def adjust_report(tests: Sequence[Comparison], q: float = Q_LEVEL) -> list[Comparison]:
    """One Benjamini-Hochberg over every test of a report, in the order given."""
    return benjamini_hochberg(tests, q)


def fit_signals(
    sizes: Sequence[Tally], returned: Mapping[str, Mapping[str, int]]
) -> list[Comparison]:
    """One SKU's size tests corrected on their own: right for a report of that SKU alone."""
    return adjust_report(size_fit_tests(sizes, returned))


def quality_signals(skus: Sequence[Tally]) -> list[Comparison]:
    """One category's quality tests corrected on their own (a report of that category)."""
    return adjust_report(quality_tests(skus))


def median_of_counts(counts: Mapping[int, int]) -> float | None:
    """The median of values given as {value: how many times}; None when there are none."""
    total = sum(n for n in counts.values() if n > 0)
    if total == 0:
        return None
    ordered = sorted((v, n) for v, n in counts.items() if n > 0)
    lower_rank, upper_rank = (total - 1) // 2, total // 2
    seen, lower = 0, None
    for value, n in ordered:
        if lower is None and seen + n > lower_rank:
            lower = value
        if seen + n > upper_rank:
            assert lower is not None  # lower_rank <= upper_rank: set by now at the latest
            return (lower + value) / 2
        seen += n
    raise AssertionError("unreachable: ranks lie within the total")
