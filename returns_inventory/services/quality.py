"""Quality scorecards for buyers and supplier managers, and the alerts replenishment reads."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from ..domain.claims import ClaimStatus
from ..domain.errors import FieldError, ValidationFailed
from ..domain.fit_signals import TEST
from ..domain.quality import (
    UNKNOWN,
    CategoryTest,
    Cell,
    Dimension,
    category_rate,
    change,
    compare_with_category,
    wilson_interval,
)
from ..domain.returns import ReturnsPolicy
from ..domain.sales_window import SalesWindow
from ..persistence.uow import UowFactory

DEFAULT_DAYS = 90
CENT = Decimal("0.01")
RESTOCKED = ("A", "B")
COLUMN = {Dimension.STYLE: "sku"}  # the others are the item master column of their name


@dataclass
class GroupFigures:
    """What came of one group's sales in a window."""

    sold: int = 0
    quality_returns: int = 0
    months_sold: Counter = field(default_factory=Counter)
    months_returned: Counter = field(default_factory=Counter)
    by_category: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    grades: Counter = field(default_factory=Counter)
    defects: Counter = field(default_factory=Counter)
    written_off_units: int = 0
    write_off_value: Decimal = Decimal("0")
    # recovered, outstanding, not_sent, owed, rejected, written_down: money at cost
    claims: defaultdict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    @property
    def rate(self) -> float | None:
        return self.quality_returns / self.sold if self.sold else None

    def cells(self, key: str) -> list[Cell]:
        """This group's sales and quality returns in each of its categories."""
        return [Cell(key, category, sold, returned)
                for category, (sold, returned) in self.by_category.items()]


def quality_codes(policy: ReturnsPolicy) -> list[str]:
    """The reason codes the returns policy marks as quality reasons."""
    return [code for code, reason in policy.reasons.items() if reason.quality]


def quality_scorecards(
    uow_factory: UowFactory,
    policy: ReturnsPolicy,
    *,
    by: str = Dimension.SUPPLIER.value,
    since: date | None = None,
    until: date | None = None,
    category: str | None = None,
    today: date | None = None,
) -> dict:
    """Per supplier, factory, style or season: units sold, quality returns and their rate with
    a 95% interval, the defect mix, restock yield, write-offs, vendor-claim money, the change
    from the previous period of the same length and the test against the category."""
    dimension = _dimension(by)
    until = until or today or policy.today()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        raise ValidationFailed("since must not be after until",
                               errors=[FieldError("since", "after until")])
    days = (until - since).days + 1
    codes = quality_codes(policy)
    with uow_factory() as uow:
        if category:  # typed as "Tops" where the catalogue says "tops"
            category = uow.catalogue.spelling("category", category)
        categories = (category,) if category else None
        window = SalesWindow(since, until, categories=categories)
        previous = SalesWindow(since - timedelta(days=days), since - timedelta(days=1),
                               categories=categories)
        now = collect(uow.quality, window, dimension, codes, full=True)
        before = collect(uow.quality, previous, dimension, codes)
    tests = compare_with_category([c for key, f in now.items() for c in f.cells(key)])
    by_group: dict[str, list[CategoryTest]] = defaultdict(list)
    for t in tests:
        by_group[t.group].append(t)
    rows = [_row(key, figures, before.get(key), by_group.get(key, []))
            for key, figures in now.items()]
    rows.sort(key=lambda r: (not r["flagged"], -(r["quality_return_rate"] or 0), r["group"]))
    return {
        "by": dimension.value,
        "window": {"since": since.isoformat(), "until": until.isoformat()},
        "previous_window": {"since": previous.since.isoformat(),
                            "until": previous.until.isoformat()},
        "filters": {"category": category},
        "quality_reasons": codes,
        "test": TEST + ", each group against the rest of its category, one family per report",
        "flagged": [r["group"] for r in rows if r["flagged"]],
        "groups": rows,
    }


def collect(repository, window: SalesWindow, dimension: Dimension, codes: list[str], *,
            full: bool = False) -> dict[str, GroupFigures]:
    """Sales and quality returns per group and month (and, when full, grades, defects,
    write-offs and vendor claims), read with a few GROUP BY queries keyed by item."""
    groups, item_group = _tally(repository.sold(window), repository.quality_returns(
        window, codes), COLUMN.get(dimension, dimension.value))
    if full:
        _add_outcomes(repository, window, item_group, groups)
    return groups


def _tally(sold: list[dict], returned: list[dict], column: str):
    groups: dict[str, GroupFigures] = defaultdict(GroupFigures)
    item_group: dict[int, tuple[str, str]] = {}
    for r in sold:
        key = r[column] or UNKNOWN
        item_group[r["item_id"]] = (key, r["category"])
        figures, units = groups[key], int(r["units"])
        figures.sold += units
        figures.months_sold[r.get("month")] += units
        figures.by_category[r["category"]][0] += units
    for r in returned:
        key, category = item_group[r["item_id"]]
        figures, units = groups[key], int(r["units"])
        figures.quality_returns += units
        figures.months_returned[r.get("month")] += units
        figures.by_category[category][1] += units
    return dict(groups), item_group


def _add_outcomes(repository, window, item_group, groups) -> None:
    for r in repository.graded_with_defects(window):
        figures, units = groups[item_group[r["item_id"]][0]], int(r["units"])
        figures.grades[r["grade"]] += units
        for code in json.loads(r["defects"] or "[]"):
            figures.defects[code] += units
    for r in repository.written_off(window):
        figures = groups[item_group[r["item_id"]][0]]
        figures.written_off_units += int(r["units"])
        figures.write_off_value += Decimal(r["value"] or 0)
    for r in repository.vendor_units(window):
        figures = groups[item_group[r["item_id"]][0]]
        value, status = Decimal(r["value"] or 0), r["status"]
        if status == ClaimStatus.CREDITED:
            credited = Decimal(r["credited"] or 0)
            figures.claims["recovered"] += credited
            figures.claims["written_down"] += value - credited
        elif status == ClaimStatus.SENT:
            figures.claims["outstanding"] += value
        elif status == ClaimStatus.REJECTED:
            figures.claims["rejected"] += value
        else:  # in a draft claim, or not gathered into one yet
            figures.claims["not_sent"] += value
        if status not in (ClaimStatus.CREDITED, ClaimStatus.REJECTED):
            figures.claims["owed"] += value


def _row(key: str, f: GroupFigures, before: GroupFigures | None, tests: list[CategoryTest]
         ) -> dict:
    interval = wilson_interval(f.quality_returns, f.sold)
    baseline = category_rate(tests)
    graded = sum(f.grades.values())
    previous_rate = before.rate if before else None
    return {
        "group": key,
        "units_sold": f.sold,
        "quality_returns": f.quality_returns,
        "quality_return_rate": _round(f.rate),
        "interval": None if interval is None else {
            "level": 0.95, "low": _round(interval[0]), "high": _round(interval[1])},
        "category_rate": _round(baseline),
        "vs_category": _round(change(f.rate, baseline)),
        "previous": {"units_sold": before.sold if before else 0,
                     "quality_returns": before.quality_returns if before else 0,
                     "quality_return_rate": _round(previous_rate)},
        "change": _round(change(f.rate, previous_rate)),
        "defects": dict(f.defects.most_common()),
        "graded": graded,
        "restock_yield": _round(sum(f.grades[g] for g in RESTOCKED) / graded if graded else None),
        "written_off_units": f.written_off_units,
        "write_off_value": _money(f.write_off_value),
        "claims": {k: _money(f.claims[k]) for k in
                   ("recovered", "outstanding", "not_sent", "owed", "rejected",
                    "written_down")},
        "tests": [_test(t) for t in tests],
        "flagged": any(t.flagged for t in tests),
        "months": [
            {"month": month, "units_sold": sold,
             "quality_returns": f.months_returned.get(month, 0),
             "quality_return_rate": _round(f.months_returned.get(month, 0) / sold)}
            for month, sold in sorted(f.months_sold.items()) if sold
        ],
    }


def _test(t: CategoryTest) -> dict:
    c = t.comparison
    return {"category": t.category, "units_sold": c.sold, "quality_returns": c.hits,
            "share": _round(c.share), "rest_share": _round(c.rest_share),
            "p_value": c.p_value, "q_value": c.q_value, "flagged": c.flagged}


def _dimension(by: str) -> Dimension:
    try:
        return Dimension(by)
    except ValueError:
        raise ValidationFailed(
            f"unknown grouping {by!r}",
            errors=[FieldError("by", "one of " + ", ".join(d.value for d in Dimension))],
        ) from None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))
