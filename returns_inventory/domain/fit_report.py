"""Every signal test of one returns report, corrected together. No framework here.

The report's family is every test it makes: sizes against their SKU, SKUs against their
category for fit (the style runs small or large) and for quality. One Benjamini-Hochberg over
all of them keeps the expected share of false flags in the report at or below `q`
(tests/unit/test_fit_report_false_flags.py checks it by permutation on data with no signal).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .fit_signals import (
    Q_LEVEL,
    Comparison,
    Tally,
    adjust_report,
    quality_tests,
    size_fit_tests,
    style_fit_tests,
)


@dataclass(frozen=True)
class CellCounts:
    """One SKU × size: units sold, and of those the units back per fit direction and for
    quality reasons."""

    sku: str
    size: str
    category: str
    sold: int
    fit: Mapping[str, int]  # {"small": units back too small, "large": ...}
    quality: int = 0


@dataclass
class ReportTests:
    sizes: dict[str, list[Comparison]] = field(default_factory=dict)  # sku -> size tests
    styles: dict[str, list[Comparison]] = field(default_factory=dict)  # sku -> style tests
    quality: dict[str, Comparison] = field(default_factory=dict)  # sku -> quality test
    made: int = 0

    def flagged(self) -> list[Comparison]:
        every = [c for tests in (*self.sizes.values(), *self.styles.values()) for c in tests]
        return [c for c in every + list(self.quality.values()) if c.flagged]


def report_tests(cells: Sequence[CellCounts], directions: Sequence[str],
                 q: float = Q_LEVEL) -> ReportTests:
    """Make every test of the report, then correct them all at once."""
    by_sku: dict[str, list[CellCounts]] = defaultdict(list)
    for cell in cells:
        by_sku[cell.sku].append(cell)
    sizes = {sku: size_fit_tests(
        [Tally(c.size, c.sold, 0) for c in group],
        {d: {c.size: c.fit.get(d, 0) for c in group} for d in directions})
        for sku, group in by_sku.items()}
    by_category: dict[str, list[str]] = defaultdict(list)
    for sku, group in by_sku.items():
        by_category[group[0].category].append(sku)
    styles: list[Comparison] = []
    quality: list[Comparison] = []
    for skus in by_category.values():
        tallies = [Tally(s, sum(c.sold for c in by_sku[s]), 0) for s in sorted(skus)]
        styles += style_fit_tests(tallies, {
            d: {t.key: sum(c.fit.get(d, 0) for c in by_sku[t.key]) for t in tallies}
            for d in directions})
        quality += quality_tests([Tally(t.key, t.sold, sum(c.quality for c in by_sku[t.key]))
                                  for t in tallies])
    made = [c for tests in sizes.values() for c in tests] + styles + quality
    adjusted = iter(adjust_report(made, q))
    out = ReportTests(made=len(made))
    out.sizes = {sku: [next(adjusted) for _ in tests] for sku, tests in sizes.items()}
    for c in (next(adjusted) for _ in styles):
        out.styles.setdefault(c.key, []).append(c)
    out.quality = {c.key: c for c in (next(adjusted) for _ in quality)}
    return out
