"""Product feedback from returns: which sizes run small or large, which SKUs break too often.

Both signals ask the same question of a count table: is this group's share of units sold that
came back for the reasons under test larger than the share of the rest of its peers? The answer
is a one-sided Fisher exact test per group (exact, so small counts are fine) and, because a
report runs many such tests at once, a Benjamini-Hochberg correction over each family of tests
so that at most about 5% of the flags it raises are expected to be false.

- Fit: each size of a SKU against the other sizes of the same SKU; `too_small` returns for
  "runs small" and `too_large` returns for "runs large" (the reasons the policy marks with
  `fit`). One family per SKU, holding both directions.
- Quality: each SKU against the other SKUs of its category; the reasons the policy marks as
  quality reasons. One family per category.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.stats import false_discovery_control, fisher_exact, hypergeom

Q_LEVEL = 0.05
TEST = "one-sided Fisher exact, Benjamini-Hochberg q<0.05"


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
    table = [[hits, sold - hits], [rest_hits, rest_sold - rest_hits]]
    return float(fisher_exact(table, alternative="greater").pvalue)


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
    testable = [g for g in groups if total_sold - g.sold > 0]
    if not testable:
        return []
    hits = np.array([g.hits for g in testable])
    sold = np.array([g.sold for g in testable])
    # The one-sided Fisher p-value is the hypergeometric tail (as excess_p_value), computed
    # for the whole family in one call: a scorecard or alert tests hundreds of groups at once.
    p_values = hypergeom.sf(hits - 1, total_sold, total_hits, sold)
    return [
        Comparison(g.key, signal, g.hits, g.sold, total_hits - g.hits, total_sold - g.sold,
                   float(min(1.0, p)))
        for g, p in zip(testable, p_values, strict=True)
    ]


def benjamini_hochberg(family: Sequence[Comparison], q: float = Q_LEVEL) -> list[Comparison]:
    """Adjust the p-values of one family of tests and flag those whose q-value is below q."""
    if not family:
        return []
    adjusted = false_discovery_control([c.p_value for c in family], method="bh")
    return [
        replace(c, q_value=float(qv), flagged=bool(qv < q))
        for c, qv in zip(family, adjusted, strict=True)
    ]


def fit_signals(
    sizes: Sequence[Tally], returned: Mapping[str, Mapping[str, int]]
) -> list[Comparison]:
    """The sizes of one SKU tested in every fit direction, all as one family.

    `sizes` carries units sold per size (its `hits` are ignored); `returned` maps each fit
    direction ("small", "large") to the units returned per size for that direction's reasons.
    """
    family = [
        comparison
        for direction, by_size in returned.items()
        for comparison in compare_with_rest(
            [Tally(t.key, t.sold, by_size.get(t.key, 0)) for t in sizes], direction
        )
    ]
    return benjamini_hochberg(family)


def quality_signals(skus: Sequence[Tally]) -> list[Comparison]:
    """The SKUs of one category tested for a quality-return share above their peers."""
    return benjamini_hochberg(compare_with_rest(skus, "quality"))


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
