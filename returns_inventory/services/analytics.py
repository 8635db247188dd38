"""Returns analytics for planners and buyers, and the write-off report for finance."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from forecasting.shrinkage import hierarchical_rate

from ..domain.errors import FieldError, ValidationFailed
from ..domain.fit_report import CellCounts, report_tests
from ..domain.fit_signals import TEST, Comparison, median_of_counts
from ..domain.grading import Grade
from ..domain.returns import ReturnsPolicy

# The analytics repository is read-only and used here alone, so it is opened on the unit of
# work's connection rather than added to every unit of work.
from ..domain.sales_window import SalesWindow
from ..persistence.uow import UowFactory

DEFAULT_DAYS = 90
CENT = Decimal("0.01")
RESTOCKABLE_GRADES = (Grade.A, Grade.B)
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
        codes = list(dict.fromkeys([*reason_codes, *sorted(self.reasons)]))
        return {
            "units_sold": self.sold,
            "units_returned": returned,
            "units_awaiting_receipt": self.awaiting_receipt,
            "return_rate": _ratio(returned, self.sold),
            "reasons": {code: self.reasons.get(code, 0) for code in codes},
            "grades": {g.value: self.grades.get(g.value, 0) for g in Grade},
            "graded": graded,
            "restockable_share": _ratio(self.hits_of_grades(RESTOCKABLE_GRADES), graded),
            "written_off_units": self.written_off_units,
            "write_off_value": str(self.write_off_value.quantize(CENT)),
            "median_days_to_receipt": median_of_counts(self.days_to_receipt),
        }

    def hits_of_grades(self, grades: Iterable[str]) -> int:
        return sum(self.grades.get(g, 0) for g in grades)


@dataclass
class ItemFigures(Figures):
    sku: str = ""
    size: str = ""
    category: str = ""


def returns_analytics(
    uow_factory: UowFactory,
    policy: ReturnsPolicy,
    *,
    since: date | None = None,
    until: date | None = None,
    sku: str | None = None,
    category: str | None = None,
    today: date | None = None,
) -> dict:
    """Returns by SKU and size for sales in the window, with fit, style and quality signals.

    Signals use a one-sided Fisher exact test per size against the rest of its SKU (and per
    SKU against the rest of its category), with one Benjamini-Hochberg correction over every
    test of the report at q < 0.05.
    """
    until = until or today or policy.today()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise ValidationFailed(
            "since must not be after until", errors=[FieldError("since", "after until")]
        )
    window = SalesWindow(since, until, sku, (category,) if category else None)
    with uow_factory() as uow:
        repository = uow.analytics
        by_item = _collect(repository, window)
        judged = repository.inspection_outcomes(window)
        categories = tuple(sorted({f.category for f in by_item.values()}))
        # The quality baseline is the whole category even when one SKU is asked for, so the
        # answer for a SKU does not depend on the filter.
        peers = (
            by_item
            if sku is None
            else _collect(repository, SalesWindow(since, until, categories=categories), full=False)
        )
    quality_codes = [code for code, r in policy.reasons.items() if r.quality]
    fit_codes = _fit_codes(policy)
    # With ?sku= the family is still its categories' report, so a SKU's q-values and flags
    # are the same whether asked for alone or with its category.
    tests = report_tests([
        CellCounts(f.sku, f.size, f.category, f.sold,
                   {fit: f.hits(codes) for fit, codes in fit_codes.items()},
                   f.hits(quality_codes))
        for f in peers.values()], tuple(fit_codes))
    category_of = {f.sku: f.category for f in peers.values()}
    style_by_sku = {sku: [{"sku": sku, "category": category_of[sku],
                           "fit": FIT_WORDS[c.signal], **_test(c)} for c in made]
                    for sku, made in tests.styles.items()}
    quality_by_sku = {sku: {"sku": sku, "category": category_of[sku], **_test(c)}
                      for sku, c in tests.quality.items()}
    by_sku = _by_sku(by_item.values(), policy.size_order)
    out = [
        _sku_row(sku_code, sizes, policy, _size_tests(sku_code, sizes, tests.sizes[sku_code]),
                 quality_by_sku.get(sku_code), style_by_sku.get(sku_code, []))
        for sku_code, sizes in by_sku.items()
    ]
    _shrunk_rates(out)
    return {
        "window": {"since": since.isoformat(), "until": until.isoformat()},
        "filters": {"sku": sku, "category": category},
        "test": TEST,
        "tests_made": tests.made,
        "fit_signals": [
            t for row in out for s in row["sizes"] for t in s["fit_tests"] if t["flagged"]
        ],
        "style_signals": [t for row in out for t in row["style_tests"] if t["flagged"]],
        "quality_signals": [
            row["quality_test"]
            for row in out
            if row["quality_test"] and row["quality_test"]["flagged"]
        ],
        "skus": out,
        "inspection": inspection_by_reason(judged),
    }


def latest_sale_day(uow_factory: UowFactory, category: str | None = None) -> date | None:
    """The last day with sales (of the category): the heat map's window ends there by default,
    so data that stopped in the past (an old import) still fills the page."""
    with uow_factory() as uow:
        return uow.analytics.last_sale_day(category)


def _shrunk_rates(out: list[dict]) -> None:
    """Return rates shrunk as the forecast shrinks them (forecasting.shrinkage): each size
    toward its SKU, each SKU toward its category, by how much they really differ. A size with
    1 sold and 1 back reads near its SKU's rate, not 100 %."""
    cells = [(row, s) for row in out for s in row["sizes"]]
    if not cells:
        return
    skus = {row["sku"]: i for i, row in enumerate(out)}
    categories = {c: i for i, c in enumerate(sorted({row["category"] for row in out}))}
    k = np.array([s["units_returned"] for _, s in cells], float)
    n = np.array([s["units_sold"] for _, s in cells], float)
    sku = np.array([skus[row["sku"]] for row, _ in cells])
    sku_cat = np.array([categories[row["category"]] for row in out])
    # The category's size profile too, as forecasting.returns does: the ends of the size
    # ladder come back more often in every SKU of a category.
    cell_of: dict[tuple[str, str], int] = {}
    cell = np.array([cell_of.setdefault((row["category"], s["size"]), len(cell_of))
                     for row, s in cells])
    glob = k.sum() / n.sum() if n.sum() else 0.0
    item_rate, sku_rate, *_ = hierarchical_rate(k, n, sku, len(out), sku_cat, len(categories),
                                                default=glob, cell=cell, n_cell=len(cell_of))
    for (_, size), rate in zip(cells, item_rate, strict=True):
        size["shrunk_return_rate"] = round(float(rate), 4)
    for row in out:
        row["shrunk_return_rate"] = round(float(sku_rate[skus[row["sku"]]]), 4)


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


def _collect(repository, window: SalesWindow, *, full: bool = True) -> dict[int, ItemFigures]:
    by_item = {
        r["item_id"]: ItemFigures(
            sold=int(r["units"]), sku=r["sku"], size=r["size"], category=r["category"]
        )
        for r in repository.units_sold(window)
    }
    for r in repository.units_returned(window):
        by_item[r["item_id"]].reasons[r["reason"]] += int(r["units"])
    if not full:
        return by_item
    for r in repository.awaiting_receipt(window):
        by_item[r["item_id"]].awaiting_receipt = int(r["units"])
    for r in repository.grades(window):
        by_item[r["item_id"]].grades[r["grade"]] += int(r["units"])
    for r in repository.written_off(window):
        figures = by_item[r["item_id"]]
        figures.written_off_units = int(r["units"])
        figures.write_off_value = Decimal(r["value"] or 0)
    for r in repository.days_to_receipt(window):
        by_item[r["item_id"]].days_to_receipt[int(r["days"])] += int(r["units"])
    return by_item


def _sku_row(sku, sizes: list[ItemFigures], policy, tests, quality_test, style_tests) -> dict:
    total = Figures()
    for figures in sizes:
        total.add(figures)
    return {
        "sku": sku,
        "category": sizes[0].category,
        **total.as_dict(policy.reasons),
        "quality_test": quality_test,
        "style_tests": style_tests,
        "sizes": [
            {"size": f.size, **f.as_dict(policy.reasons), "fit_tests": tests[f.size]} for f in sizes
        ],
    }


def _fit_codes(policy: ReturnsPolicy) -> dict[str, list[str]]:
    """Reason codes per fit direction, as the policy marks them ("small": ["too_small"])."""
    codes: dict[str, list[str]] = defaultdict(list)
    for code, reason in policy.reasons.items():
        if reason.fit:
            codes[reason.fit].append(code)
    return codes


def _by_sku(figures: Iterable[ItemFigures], size_order) -> dict[str, list[ItemFigures]]:
    skus: dict[str, list[ItemFigures]] = defaultdict(list)
    for f in figures:
        skus[f.sku].append(f)
    key = size_key(tuple(size_order))
    return {sku: sorted(sizes, key=lambda f: key(f.size)) for sku, sizes in sorted(skus.items())}


def _size_tests(sku: str, sizes: list[ItemFigures], made) -> dict[str, list[dict]]:
    tests: dict[str, list[dict]] = {f.size: [] for f in sizes}
    for c in made:
        tests[c.key].append(
            {"sku": sku, "size": c.key, "fit": FIT_WORDS.get(c.signal, c.signal), **_test(c)}
        )
    return tests


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
