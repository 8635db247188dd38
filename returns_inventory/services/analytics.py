"""Returns analytics for planners and buyers, and the write-off report for finance."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from ..domain.errors import FieldError, ValidationFailed
from ..domain.fit_signals import TEST, Comparison, median_of_counts
from ..domain.grading import Grade
from ..domain.returns import ReturnsPolicy
from ..domain.sales_window import SalesWindow
from ..persistence.uow import UowFactory
from .analytics_report import report_cells

DEFAULT_DAYS = 90
PAGE_SIZE = 100  # SKUs a page, each with its sizes: some 60 kB of JSON
MOST_PAGE_SIZE = 500
SHOWN_SIGNALS = 50  # flagged tests of each kind the heat map lists, the surest first
CENT = Decimal("0.01")
# As plain strings: a page builds some 3,000 of these figures, and reading an enum member's
# value is an attribute lookup each time.
GRADE_CODES = tuple(g.value for g in Grade)
RESTOCKABLE_GRADES = (Grade.A.value, Grade.B.value)
FIT_WORDS = {"small": "runs_small", "large": "runs_large",
             "style_small": "style_runs_small", "style_large": "style_runs_large"}


@dataclass
class Figures:
    """What came of the units sold of one size (or, summed, of one SKU)."""

    sold: int = 0
    reasons: Counter = field(default_factory=Counter)
    awaiting_receipt: int = 0
    grades: Counter = field(default_factory=Counter)
    written_off_units: int = 0
    write_off_value: Decimal = Decimal("0")
    days_to_receipt: Counter = field(default_factory=Counter)

    def add(self, other: Figures) -> None:
        self.sold += other.sold
        self.reasons.update(other.reasons)
        self.awaiting_receipt += other.awaiting_receipt
        self.grades.update(other.grades)
        self.written_off_units += other.written_off_units
        self.write_off_value += other.write_off_value
        self.days_to_receipt.update(other.days_to_receipt)

    def hits(self, codes: Iterable[str]) -> int:
        return sum(self.reasons.get(code, 0) for code in codes)

    def as_dict(self, reason_codes: Iterable[str]) -> dict:
        returned = sum(self.reasons.values())
        graded = sum(self.grades.values())
        reasons = {code: self.reasons.get(code, 0) for code in reason_codes}
        for code in sorted(self.reasons):  # codes the policy no longer names, after its own
            reasons.setdefault(code, self.reasons[code])
        return {
            "units_sold": self.sold,
            "units_returned": returned,
            "units_awaiting_receipt": self.awaiting_receipt,
            "return_rate": _ratio(returned, self.sold),
            "reasons": reasons,
            "grades": {g: self.grades.get(g, 0) for g in GRADE_CODES},
            "graded": graded,
            "restockable_share": _ratio(self.hits_of_grades(RESTOCKABLE_GRADES), graded),
            "written_off_units": self.written_off_units,
            "write_off_value": str(self.write_off_value.quantize(CENT)),
            "median_days_to_receipt": median_of_counts(self.days_to_receipt),
        }

    def hits_of_grades(self, grades: Iterable[str]) -> int:
        return sum(self.grades.get(g, 0) for g in grades)


def returns_analytics(
    uow_factory: UowFactory,
    policy: ReturnsPolicy,
    *,
    since: date | None = None,
    until: date | None = None,
    sku: str | None = None,
    category: str | None = None,
    today: date | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> dict:
    """Returns by SKU and size for sales in the window, with fit, style and quality signals,
    one page of SKUs at a time (in SKU order, after `after`).

    Signals use a one-sided Fisher exact test per size against the rest of its SKU (and per
    SKU against the rest of its category), with one Benjamini-Hochberg correction over every
    test of the report at q < 0.05: the report is every page, so a page's flags do not depend
    on where it starts.
    """
    window = _window(policy, since, until, today)
    with uow_factory() as uow:
        report = _family_report(uow, policy, window, sku, category)
        chosen = report.selection(sku)
        codes = [str(report.sku_codes[s]) for s in chosen.skus]
        start = bisect_right(codes, after) if after is not None else 0
        page = chosen.skus[start:start + limit]
        uow.analytics.few_rows_follow()
        rows = _rows(uow, policy, window, report, chosen, page)
        judged = uow.analytics.inspection_outcomes(window.of_items(_items(report, page)))
    more = start + limit < len(chosen.skus)
    return {
        "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        "filters": {"sku": sku, "category": category},
        "test": TEST,
        "tests_made": report.tests.made,
        "flagged": _flagged_counts(report, chosen.skus),
        "page": {"after": after, "limit": limit, "skus": len(chosen.skus),
                 "next_after": rows[-1]["sku"] if rows and more else None},
        **_signals(rows),
        "skus": rows,
        "inspection": inspection_by_reason(judged),
    }


def returns_heat_map(uow_factory: UowFactory, policy: ReturnsPolicy, *, since: date,
                     until: date, category: str | None, most: int, least: int) -> dict:
    """The `most` SKUs of the window with the highest shrunk return rate (those with fewer
    than `least` units sold last), with the report's reason mix, signals and inspection."""
    window = _window(policy, since, until, None)
    with uow_factory() as uow:
        report = _family_report(uow, policy, window, None, category)
        chosen = report.selection(None)
        sold = np.bincount(report.cell_sku, weights=report.sold, minlength=len(report.sku_codes))
        rate = np.nan_to_num(np.round(chosen.sku_rates, 4))
        # SKUs come in SKU order, so a stable sort keeps it among equals.
        ranked = chosen.skus[np.lexsort((-rate[chosen.skus], sold[chosen.skus] < least))]
        uow.analytics.few_rows_follow()
        rows = _rows(uow, policy, window, report, chosen, ranked[:most])
        flagged = _flagged_tests(report, chosen.skus, SHOWN_SIGNALS)
        judged = uow.analytics.inspection_outcomes(window)
    mix = report.reasons.sum(axis=0)
    return {
        "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        "test": TEST,
        "tests_made": report.tests.made,
        "flagged": _flagged_counts(report, chosen.skus),
        "skus_total": len(chosen.skus),
        "skus": rows,
        "reasons": {code: int(n) for code, n in zip(report.reason_codes, mix, strict=True)},
        **flagged,
        "inspection": inspection_by_reason(judged),
    }


def _window(policy: ReturnsPolicy, since, until, today) -> SalesWindow:
    until = until or today or policy.today()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise ValidationFailed(
            "since must not be after until", errors=[FieldError("since", "after until")]
        )
    return SalesWindow(since, until)


def _family_report(uow, policy: ReturnsPolicy, window: SalesWindow, sku: str | None,
                   category: str | None):
    """The report of the filter's family: its category, or with ?sku= the SKU's categories
    (a SKU's q-values and flags are then the same asked alone or with its category)."""
    categories = (category,) if category else None
    if sku is not None:
        categories = uow.analytics.categories_sold(
            SalesWindow(window.since, window.until, sku, categories))
    family = SalesWindow(window.since, window.until, categories=categories)
    return report_cells(uow, policy, family, size_key(tuple(policy.size_order)))


def _items(report, skus) -> list[int]:
    return [int(report.item_id[c]) for s in skus for c in report.cells_of(int(s))]


def _rows(uow, policy: ReturnsPolicy, window: SalesWindow, report, chosen, skus) -> list[dict]:
    """The rows of some SKUs: their figures (the page's own, read for its items alone) and
    their tests from the report."""
    details = _collect(uow.analytics, window.of_items(_items(report, skus))) if len(skus) else {}
    rows = []
    for s in (int(s) for s in skus):
        sizes = []
        for c in report.cells_of(s):
            figures = details.get(int(report.item_id[c])) or Figures()
            figures.sold = int(report.sold[c])
            figures.reasons = Counter({code: int(n) for code, n in
                                       zip(report.reason_codes, report.reasons[c], strict=True)
                                       if n})
            sizes.append((report.size[c], figures, chosen.cell_rate(c), [
                _size_test(report, row, report.sku_codes[s], report.size[c])
                for row in report.tests.sizes.of(c)]))
        tests = [report.tests.skus.comparison(row) for row in report.tests.skus.of(s)]
        category = report.sku_category[s]
        quality = next((t for t in tests if t.signal == "quality"), None)
        rows.append(_sku_row(
            report.sku_codes[s], category, sizes, policy, chosen.sku_rate(s),
            None if quality is None else {"sku": report.sku_codes[s], "category": category,
                                          **_test(quality)},
            [{"sku": report.sku_codes[s], "category": category,
              "fit": FIT_WORDS[t.signal], **_test(t)} for t in tests if t.signal != "quality"]))
    return rows


def _size_test(report, row: int, sku: str, size: str) -> dict:
    c = report.tests.sizes.comparison(row)
    return {"sku": sku, "size": size, "fit": FIT_WORDS.get(c.signal, c.signal), **_test(c)}


def _signals(rows: list[dict]) -> dict:
    return {
        "fit_signals": [
            t for row in rows for s in row["sizes"] for t in s["fit_tests"] if t["flagged"]
        ],
        "style_signals": [t for row in rows for t in row["style_tests"] if t["flagged"]],
        "quality_signals": [
            row["quality_test"]
            for row in rows
            if row["quality_test"] and row["quality_test"]["flagged"]
        ],
    }


def _flagged_counts(report, skus: np.ndarray) -> dict:
    """How many tests of the SKUs shown are flagged, by kind, over every page."""
    shown = np.zeros(len(report.sku_codes), dtype=bool)
    shown[skus] = True
    sizes, by_sku = report.tests.sizes, report.tests.skus
    size_flags = sizes.flagged & shown[report.cell_sku[sizes.owner]]
    sku_flags = by_sku.flagged & shown[by_sku.owner]
    quality = by_sku.signal == by_sku.signals.index("quality")
    return {"fit": int(size_flags.sum()), "style": int((sku_flags & ~quality).sum()),
            "quality": int((sku_flags & quality).sum())}


def _flagged_tests(report, skus: np.ndarray, most: int) -> dict:
    """The flagged tests of the SKUs shown, the surest (lowest q-value) `most` of each kind."""
    shown = np.zeros(len(report.sku_codes), dtype=bool)
    shown[skus] = True
    sizes, by_sku = report.tests.sizes, report.tests.skus

    def surest(rows: np.ndarray, q_values: np.ndarray) -> list[int]:
        return rows[np.argsort(q_values[rows], kind="stable")][:most].tolist()

    fit = [_size_test(report, r, report.sku_codes[int(report.cell_sku[sizes.owner[r]])],
                      report.size[int(sizes.owner[r])])
           for r in surest(np.flatnonzero(sizes.flagged & shown[report.cell_sku[sizes.owner]]),
                           sizes.q_value)]
    quality = by_sku.signal == by_sku.signals.index("quality")
    flagged = by_sku.flagged & shown[by_sku.owner]

    def sku_test(r: int) -> dict:
        c, s = by_sku.comparison(r), int(by_sku.owner[r])
        extra = {} if c.signal == "quality" else {"fit": FIT_WORDS[c.signal]}
        return {"sku": report.sku_codes[s], "category": report.sku_category[s], **extra,
                **_test(c)}

    return {"fit_signals": fit,
            "style_signals": [sku_test(r) for r in surest(np.flatnonzero(flagged & ~quality),
                                                          by_sku.q_value)],
            "quality_signals": [sku_test(r) for r in surest(np.flatnonzero(flagged & quality),
                                                            by_sku.q_value)]}


def latest_sale_day(uow_factory: UowFactory, category: str | None = None) -> date | None:
    """The last day with sales (of the category): the heat map's window ends there by default,
    so data that stopped in the past (an old import) still fills the page."""
    with uow_factory() as uow:
        return uow.analytics.last_sale_day(category)


def inspection_by_reason(rows: list[dict]) -> list[dict]:
    """Refused and deducted units per reason and SKU, the most refused or deducted first:
    wardrobing shows up as refusals on one SKU, unclear policy words as one reason's."""
    tally: dict[tuple[str, str], dict] = {}
    for row in rows:
        entry = tally.setdefault((row["reason"], row["sku"]), {
            "reason": row["reason"], "sku": row["sku"], "judged": 0, "accept": 0,
            "deduct": 0, "refuse": 0, "deducted_value": Decimal("0")})
        entry["judged"] += row["units"]
        entry[row["outcome"]] += row["units"]
        if row["outcome"] == "deduct":
            entry["deducted_value"] += Decimal(row["deducted"] or 0)
    out = []
    for entry in tally.values():
        out.append({
            "reason": entry["reason"], "sku": entry["sku"], "units_judged": entry["judged"],
            "accepted": entry["accept"], "deducted": entry["deduct"], "refused": entry["refuse"],
            "refused_share": _ratio(entry["refuse"], entry["judged"]),
            "deducted_share": _ratio(entry["deduct"], entry["judged"]),
            "deducted_value": str(entry["deducted_value"].quantize(CENT)),
        })
    return sorted(out, key=lambda e: (-(e["refused"] + e["deducted"]), e["reason"], e["sku"]))


def write_off_report(uow_factory: UowFactory, **filters) -> dict:
    """Posted write-offs summed by sku, size, location and reason, with the grand total."""
    with uow_factory() as uow:
        rows = uow.analytics.write_off_report(**filters)
    rows = [
        {**row, "units": int(row["units"]), "value": Decimal(row["value"]).quantize(CENT)}
        for row in rows
    ]
    return {
        "filters": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items()},
        "rows": rows,
        "totals": {
            "units": sum(r["units"] for r in rows),
            "value": sum((r["value"] for r in rows), Decimal("0")).quantize(CENT),
        },
    }


def _collect(repository, window: SalesWindow) -> dict[int, Figures]:
    """The figures of the window's items other than units sold and returned (those are the
    report's): awaiting receipt, grades, write-offs, days to receipt."""
    by_item: dict[int, Figures] = defaultdict(Figures)
    for r in repository.awaiting_receipt(window):
        by_item[r["item_id"]].awaiting_receipt = int(r["units"])
    for r in repository.received(window):
        figures = by_item[r["item_id"]]
        if r["grade"] is not None:
            figures.grades[r["grade"]] += int(r["units"])
        if r["days"] is not None:  # imported returns count only where the sale's date is known
            figures.days_to_receipt[int(r["days"])] += int(r["units"])
    for r in repository.written_off(window):
        figures = by_item[r["item_id"]]
        figures.written_off_units += int(r["units"])
        figures.write_off_value += Decimal(r["value"] or 0)
    return by_item


def _sku_row(sku: str, category: str, sizes: list, policy, rate, quality_test,
             style_tests) -> dict:
    total = Figures()
    for _, figures, _, _ in sizes:
        total.add(figures)
    return {
        "sku": sku,
        "category": category,
        **total.as_dict(policy.reasons),
        "shrunk_return_rate": rate,
        "quality_test": quality_test,
        "style_tests": style_tests,
        "sizes": [
            {"size": size, **f.as_dict(policy.reasons), "shrunk_return_rate": size_rate,
             "fit_tests": tests}
            for size, f, size_rate, tests in sizes
        ],
    }


def _test(c: Comparison) -> dict:
    return {
        "units_sold": c.sold,
        "units_returned": c.hits,
        "share": round(c.share, 4),
        "rest_share": round(c.rest_share, 4),
        "p_value": c.p_value,
        "q_value": c.q_value,
        "flagged": c.flagged,
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def size_key(order: tuple[str, ...]):
    """Sizes in the policy's letter order, then numeric sizes by value, then the rest."""

    def key(size: str):
        if size in order:
            return (0, float(order.index(size)), size)
        try:
            return (1, float(size), size)
        except ValueError:
            return (2, 0.0, size)

    return key
