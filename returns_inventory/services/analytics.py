"""Returns analytics for planners and buyers, and the write-off report for finance."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from ..domain.errors import FieldError, ValidationFailed
from ..domain.fit_signals import TEST, median_of_counts
from ..domain.grading import Grade
from ..domain.returns import ReturnsPolicy
from ..domain.sales_window import SalesWindow
from ..persistence.uow import UowFactory
from .report_requests import (
    Background,
    ReportComputing,
    expected_ms,
    request_report,
)
from .stored_reports import StoredReport, alone, compute_report, refresh_reports, stored_report

DEFAULT_DAYS = 90
# The windows the planner page offers (days ending on the chosen day): the returns-reports
# job keeps each computed, ending on the last day with sales.
PAGE_WINDOW_DAYS = (30, 90, 180, 365)
PAGE_SIZE = 100  # SKUs a page, each with its sizes: some 60 kB of JSON
MOST_PAGE_SIZE = 500
CENT = Decimal("0.01")
# As plain strings: a page builds some 3,000 of these figures, and reading an enum member's
# value is an attribute lookup each time.
GRADE_CODES = tuple(g.value for g in Grade)
RESTOCKABLE_GRADES = (Grade.A.value, Grade.B.value)


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
    run: Background | None = None,
) -> dict | ReportComputing:
    """Returns by SKU and size for sales in the window, with fit, style and quality signals,
    one page of SKUs at a time (in SKU order, after `after`).

    Signals use a one-sided Fisher exact test per size against the rest of its SKU (and per
    SKU against the rest of its category), with one Benjamini-Hochberg correction over every
    test of the report at q < 0.05: the report is every page, so a page's flags do not depend
    on where it starts. The report is computed whole and stored (stored_reports.py); a page
    reads its own SKUs' rows of it. A report not stored and too long to wait for is asked
    for: ReportComputing, and `run` computes it in the background (report_requests.py).
    """
    window = _window(policy, since, until, today)
    with uow_factory() as uow:
        family = _family(uow, window, sku, category)
        report, expected = _servable(uow, policy, family)
        if report is not None:  # the usual case: one transaction
            return _page(uow, policy, window, report, sku, category, after, limit)
    if expected >= policy.report_wait_ms:
        return request_report(uow_factory, policy, family, size_key(tuple(policy.size_order)),
                              expected=expected, run=run)
    report = compute_report(uow_factory, policy, family, size_key(tuple(policy.size_order)))
    with uow_factory() as uow:
        return _page(uow, policy, window, report, sku, category, after, limit)


def _servable(uow, policy: ReturnsPolicy, family: SalesWindow
              ) -> tuple[StoredReport | None, int]:
    """The family's stored report if it may be served, and what computing it is expected to
    take (when not). A report too long to wait for is served however old (the job brings the
    windows it keeps up to date; an older window's is dropped once its data changes, and
    its next read asks for it again)."""
    report = stored_report(uow, policy, family)
    if report is not None:
        return report, 0
    expected = expected_ms(uow)
    if expected >= policy.report_wait_ms:
        return stored_report(uow, policy, family, any_age=True), expected
    return None, expected


def _page(uow, policy: ReturnsPolicy, window: SalesWindow, report: StoredReport,
          sku: str | None, category: str | None, after: str | None, limit: int) -> dict:
    if sku is None:
        bodies = uow.stored_reports.page(report.id, after, limit + 1)
        total = report.header["skus"]
    else:
        found = uow.stored_reports.one(report.id, sku)
        total = len(found)
        bodies = [(code, alone(body)) for code, body in found if after is None or code > after]
    more, bodies = len(bodies) > limit, bodies[:limit]
    uow.analytics.few_rows_follow()
    rows = _rows(uow, policy, window, bodies)
    judged = uow.analytics.inspection_outcomes(window.of_items(_items(bodies)))
    flagged = report.header["flagged"] if sku is None else {
        kind: sum(body["flagged"][kind] for _, body in bodies)
        for kind in ("fit", "style", "quality")}
    return {
        "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        "filters": {"sku": sku, "category": category},
        "report": report.freshness(),
        "test": TEST,
        "tests_made": report.header["tests_made"],
        "flagged": flagged,
        "page": {"after": after, "limit": limit, "skus": total,
                 "next_after": rows[-1]["sku"] if rows and more else None},
        **_signals(rows),
        "skus": rows,
        "inspection": inspection_by_reason(judged),
    }


def returns_heat_map(uow_factory: UowFactory, policy: ReturnsPolicy, *, since: date,
                     until: date, category: str | None, most: int,
                     run: Background | None = None) -> dict | ReportComputing:
    """The `most` SKUs of the window with the highest shrunk return rate (those with fewer
    than the policy's heat_min_units units sold last), with the report's reason mix, signals
    and inspection."""
    window = _window(policy, since, until, None)
    family = SalesWindow(since, until, categories=(category,) if category else None)
    with uow_factory() as uow:
        report, expected = _servable(uow, policy, family)
        if report is not None:
            return _heat_map(uow, window, report, policy, most)
    if expected >= policy.report_wait_ms:
        return request_report(uow_factory, policy, family, size_key(tuple(policy.size_order)),
                              expected=expected, run=run)
    report = compute_report(uow_factory, policy, family, size_key(tuple(policy.size_order)))
    with uow_factory() as uow:
        return _heat_map(uow, window, report, policy, most)


def _heat_map(uow, window: SalesWindow, report: StoredReport, policy: ReturnsPolicy,
              most: int) -> dict:
    bodies = uow.stored_reports.ranked(report.id, most)
    uow.analytics.few_rows_follow()
    rows = _rows(uow, policy, window, bodies)
    judged = uow.analytics.inspection_outcomes(window)
    header = report.header
    return {
        "window": {"since": window.since.isoformat(), "until": window.until.isoformat()},
        "report": report.freshness(),
        "test": TEST,
        "tests_made": header["tests_made"],
        "flagged": header["flagged"],
        "skus_total": header["skus"],
        "skus": rows,
        "reasons": header["reasons"],
        **{kind: header[kind] for kind in ("fit_signals", "style_signals", "quality_signals")},
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


def _family(uow, window: SalesWindow, sku: str | None, category: str | None) -> SalesWindow:
    """The window of the filter's family: its category, or with ?sku= the SKU's categories (a
    SKU's q-values and flags are then the same asked alone or with its category)."""
    categories: tuple[str, ...] | None = (category,) if category else None
    if sku is not None:
        categories = uow.analytics.categories_sold(
            SalesWindow(window.since, window.until, sku, categories))
    return SalesWindow(window.since, window.until, categories=categories)


def _items(bodies: list[tuple[str, dict]]) -> list[int]:
    return [size["item_id"] for _, body in bodies for size in body["sizes"]]


def _rows(uow, policy: ReturnsPolicy, window: SalesWindow, bodies: list[tuple[str, dict]]
          ) -> list[dict]:
    """The rows of some SKUs: their figures (the page's own, read for its items alone) and
    their figures and tests from the stored report."""
    details = _collect(uow.analytics, window.of_items(_items(bodies))) if bodies else {}
    rows = []
    for sku, body in bodies:
        sizes = []
        for cell in body["sizes"]:
            figures = details.get(cell["item_id"]) or Figures()
            figures.sold = cell["sold"]
            figures.reasons = Counter(cell["reasons"])
            sizes.append((cell["size"], figures, cell["rate"], cell["fit_tests"]))
        rows.append(_sku_row(sku, body["category"], sizes, policy, body["rate"],
                             body["quality_test"], body["style_tests"]))
    return rows


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


def refresh_returns_reports(uow_factory: UowFactory, policy: ReturnsPolicy,
                            now: datetime | None = None) -> dict:
    """Bring the stored returns reports up to date (the scheduler's returns-reports job): the
    API's default window (90 days ending today) and every window the planner page offers
    (ending on the last day with sales), of every category and of each, and the other reports
    of recent windows whose data changed."""
    return refresh_reports(uow_factory, policy, size_key(tuple(policy.size_order)),
                           today=policy.today(now), last_sale_day=latest_sale_day(uow_factory),
                           page_days=PAGE_WINDOW_DAYS)


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
