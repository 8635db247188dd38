"""Every signal test of one returns report, corrected together. No framework here.

The report's family is every test it makes: sizes against their SKU, SKUs against their
category for fit (the style runs small or large) and for quality. One Benjamini-Hochberg over
all of them keeps the expected share of false flags in the report at or below `q`
(tests/unit/test_fit_report_false_flags.py checks it by permutation on data with no signal).

A report of 100,000 SKU × sizes makes some 200,000 tests, so they are made on arrays: the
totals of each SKU and category by `bincount`, every p-value in one vectorised tail sum
(`fit_signals.excess_p_values`) and the correction in one `false_discovery_control`, rather
than a test per group in a loop (`fit_signals.compare_with_rest` states the same test one
family at a time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import false_discovery_control

from .fit_signals import Q_LEVEL, Comparison, excess_p_values


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


@dataclass(frozen=True)
class TestTable:
    """Tests of one report as columns: `owner` is the cell (size tests) or the SKU (style and
    quality tests) index, `signal` an index into the table's `signals`; sorted by owner, then
    signal."""

    signals: tuple[str, ...]
    owner: np.ndarray
    signal: np.ndarray
    hits: np.ndarray
    sold: np.ndarray
    rest_hits: np.ndarray
    rest_sold: np.ndarray
    p_value: np.ndarray
    q_value: np.ndarray
    flagged: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    def of(self, owner: int) -> range:
        """The rows of one owner's tests."""
        start, end = np.searchsorted(self.owner, [owner, owner + 1])
        return range(int(start), int(end))

    def comparison(self, row: int) -> Comparison:
        return Comparison(self.signals[self.signal[row]], self.signals[self.signal[row]],
                          int(self.hits[row]), int(self.sold[row]), int(self.rest_hits[row]),
                          int(self.rest_sold[row]), float(self.p_value[row]),
                          float(self.q_value[row]), bool(self.flagged[row]))


@dataclass(frozen=True)
class CellTests:
    """Every test of a report: per cell (sizes) and per SKU (styles, quality), corrected."""

    sizes: TestTable
    skus: TestTable

    @property
    def made(self) -> int:
        return len(self.sizes) + len(self.skus)


def cell_tests(sku: np.ndarray, n_skus: int, sku_category: np.ndarray, sold: np.ndarray,
               fit: np.ndarray, quality: np.ndarray, directions: Sequence[str],
               q: float = Q_LEVEL) -> CellTests:
    """Every test of a report from its cells as arrays: `sku[i]` the SKU index of cell i,
    `sku_category[s]` the category index of SKU s, `sold[i]`, `fit[i, d]` units back in fit
    direction d and `quality[i]` units back for quality reasons.

    The same tests as `fit_signals.compare_with_rest` per family: a group is tested when it
    and the rest of its peers sold something and its peers had any hits; hits above units
    sold are capped (a size's in the size tests, a SKU's in the SKU tests)."""
    sold = np.asarray(sold, np.int64)
    fit = np.asarray(fit, np.int64).reshape(len(sold), len(directions))
    quality = np.asarray(quality, np.int64)
    cells = np.arange(len(sold))
    size_parts = [against_rest(cells, sku, n_skus, sold, fit[:, d], d)
                  for d in range(len(directions))]
    sku_sold = np.bincount(sku, weights=sold, minlength=n_skus).astype(np.int64)
    n_categories = int(sku_category.max()) + 1 if n_skus else 0
    skus = np.arange(n_skus)

    def per_sku(values):
        return np.bincount(sku, weights=values, minlength=n_skus).astype(np.int64)

    sku_parts = [against_rest(skus, sku_category, n_categories, sku_sold,
                               per_sku(fit[:, d]), d) for d in range(len(directions))]
    sku_parts.append(against_rest(skus, sku_category, n_categories, sku_sold,
                                   per_sku(quality), len(directions)))
    size_table = _columns(size_parts, tuple(directions))
    sku_table = _columns(sku_parts, (*(f"style_{d}" for d in directions), "quality"))
    every = np.concatenate([size_table["p_value"], sku_table["p_value"]])
    adjusted = false_discovery_control(every, method="bh") if len(every) else every
    size_q, sku_q = adjusted[:len(size_table["p_value"])], adjusted[len(size_table["p_value"]):]
    return CellTests(_table(size_table, size_q, q), _table(sku_table, sku_q, q))


def against_rest(groups, family, n_families, sold, hits, signal) -> dict:
    """Each group against the rest of its family pooled (`family[i]` the family index of
    group i): the testable ones, in the order given, as columns, and their p-values."""
    hits = np.clip(hits, 0, np.maximum(sold, 0))
    selling = sold > 0
    total_sold = np.bincount(family, weights=np.where(selling, sold, 0),
                             minlength=n_families).astype(np.int64)
    total_hits = np.bincount(family, weights=np.where(selling, hits, 0),
                             minlength=n_families).astype(np.int64)
    rest_sold = total_sold[family] - sold
    rest_hits = total_hits[family] - hits
    testable = selling & (total_hits[family] > 0) & (rest_sold > 0)
    part = {"owner": groups[testable], "signal": np.full(int(testable.sum()), signal),
            "hits": hits[testable], "sold": sold[testable], "rest_hits": rest_hits[testable],
            "rest_sold": rest_sold[testable]}
    part["p_value"] = excess_p_values(part["hits"], part["sold"], part["rest_hits"],
                                      part["rest_sold"]) if testable.any() else np.zeros(0)
    return part


def _columns(parts: list[dict], signals: tuple[str, ...]) -> dict:
    joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((joined["signal"], joined["owner"]))
    return {"signals": signals, **{k: v[order] for k, v in joined.items()}}


def _table(columns: dict, q_values: np.ndarray, q: float) -> TestTable:
    return TestTable(**columns, q_value=q_values, flagged=q_values < q)


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
    """Make every test of the report, then correct them all at once (as Comparisons keyed by
    SKU: the size tests' key is the size, the SKU tests' the SKU)."""
    order = list(dict.fromkeys(c.sku for c in cells))
    skus = {s: i for i, s in enumerate(order)}
    category_of = {c.sku: c.category for c in cells}
    categories = {c: i for i, c in enumerate(dict.fromkeys(category_of.values()))}
    tests = cell_tests(
        np.array([skus[c.sku] for c in cells], np.int64), len(order),
        np.array([categories[category_of[s]] for s in order], np.int64),
        np.array([c.sold for c in cells], np.int64),
        np.array([[c.fit.get(d, 0) for d in directions] for c in cells], np.int64),
        np.array([c.quality for c in cells], np.int64), directions, q)
    out = ReportTests(made=tests.made)
    out.sizes = {s: [] for s in order}
    for row in range(len(tests.sizes)):
        cell = cells[int(tests.sizes.owner[row])]
        out.sizes[cell.sku].append(_keyed(tests.sizes.comparison(row), cell.size))
    for row in range(len(tests.skus)):
        sku = order[int(tests.skus.owner[row])]
        made = _keyed(tests.skus.comparison(row), sku)
        if made.signal == "quality":
            out.quality[sku] = made
        else:
            out.styles.setdefault(sku, []).append(made)
    return out


def _keyed(c: Comparison, key: str) -> Comparison:
    return Comparison(key, c.signal, c.hits, c.sold, c.rest_hits, c.rest_sold, c.p_value,
                      c.q_value, c.flagged)

