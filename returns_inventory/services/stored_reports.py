"""Returns analytics reports computed whole and stored a row per SKU, so a page of the report
reads its own SKUs' rows, in any process, instead of summing the window again.

A report's tests are one Benjamini-Hochberg family over every SKU × size of the window, and
its shrunk rates pool every SKU of a category: no page can be computed alone. So a report is
computed whole (analytics_report.py, from the day summaries) and stored with the change stamp
of the data it counted and the time it was computed:

- by the scheduler's `returns-reports` job, every few minutes: the default windows (the 90
  days ending today, and ending on the last day with sales) of every category and of each,
  and every stored report of a recent window whose data changed since;
- by a read that finds no report of its window, or one older than the policy's
  `report_max_age_minutes` whose data changed since (then that read waits for it).

A read serves the stored report and says how fresh it is: `computed_at`, and `current`
(nothing it counts has changed since). Grades, write-offs and units awaiting receipt are not
part of it: a page reads them for its own items as it is served.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy.exc import IntegrityError

from ..domain.fit_signals import Comparison
from ..domain.returns import ReturnsPolicy
from ..domain.sales_window import SalesWindow
from ..persistence.repositories.analytics import ChangeStamp
from ..persistence.uow import UowFactory
from .analytics_report import ReportCells, _build, _fit_codes, _quality_codes, shrunk_rates

SHOWN_SIGNALS = 50  # flagged tests of each kind the heat map lists, the surest first
FIT_WORDS = {"small": "runs_small", "large": "runs_large",
             "style_small": "style_runs_small", "style_large": "style_runs_large"}
DEFAULT_DAYS = 90
# Stored reports of windows that ended longer ago than this are not refreshed by the job:
# dropped once their data changes, a later read computes them again.
RECENT_DAYS = 2


@dataclass(frozen=True)
class StoredReport:
    id: int
    header: dict
    computed_at: datetime
    current: bool  # nothing it counts has changed since it was computed

    def freshness(self) -> dict:
        return {"computed_at": self.computed_at.astimezone(UTC).isoformat(),
                "current": self.current}


def current_report(uow_factory: UowFactory, policy: ReturnsPolicy, family: SalesWindow,
                   size_key, *, now: datetime | None = None) -> StoredReport:
    """The stored report of the family's window: as stored while its data is unchanged or it
    is younger than the policy's report_max_age_minutes, else computed again (and stored)."""
    now = now or datetime.now(UTC)
    key = report_key(policy, family)
    with uow_factory() as uow:
        found = uow.stored_reports.find(*key)
        stamp = stamp_text(uow.analytics.change_stamp())
    if found is not None:
        current = found["stamp"] == stamp
        age = now - _aware(found["computed_at"])
        if current or age < timedelta(minutes=policy.report_max_age_minutes):
            return StoredReport(found["id"], found["header"], _aware(found["computed_at"]),
                                current)
    return compute_report(uow_factory, policy, family, size_key)


def compute_report(uow_factory: UowFactory, policy: ReturnsPolicy, family: SalesWindow,
                   size_key, *, whole: tuple[ReportCells, ChangeStamp] | None = None
                   ) -> StoredReport:
    """Compute the family's report and store it in place of the one before; with `whole`
    (the report of every category of the same window and the stamp it was summed at), cut
    from it instead of summing the window again."""
    started = time.perf_counter()
    key = report_key(policy, family)
    try:
        with uow_factory() as uow:
            if whole is not None:
                cells, stamp = whole
                if family.categories is not None:
                    cells = cells.of_categories(family.categories, policy)
            else:
                stamp = uow.analytics.change_stamp()
                cells = _build(uow.analytics, policy, family, size_key, stamp)
            header, skus = stored_form(cells, policy)
            computed_at = datetime.now(UTC)
            report_id = uow.stored_reports.replace(
                *key, stamp=stamp_text(stamp), computed_at=computed_at,
                compute_ms=round(1000 * (time.perf_counter() - started)), header=header,
                skus=skus)
            uow.commit()
    except IntegrityError:  # another reader stored the same report first: read theirs
        with uow_factory() as uow:
            found = uow.stored_reports.find(*key)
        if found is None:
            raise
        return StoredReport(found["id"], found["header"], _aware(found["computed_at"]), True)
    # Not current if a row committed while the window was summed (the sums may hold it).
    return StoredReport(report_id, header, computed_at, cells.settled)


def refresh_reports(uow_factory: UowFactory, policy: ReturnsPolicy, size_key, *,
                    today: date, last_sale_day: date | None) -> dict:
    """The scheduler's pass: store the default windows' reports (every category, and each
    category alone) if missing or out of date, bring every other stored report of a recent
    window up to date, and drop out-of-date ones of older windows. A window is summed once:
    each category's report is cut from the whole window's."""
    key_of_policy = policy_key(policy)
    with uow_factory() as uow:
        stamp = stamp_text(uow.analytics.change_stamp())
        stored = [r for r in uow.stored_reports.every() if r["policy_key"] == key_of_policy]
    defaults = {(until - timedelta(days=DEFAULT_DAYS - 1), until)
                for until in {today, last_sale_day or today}}
    up_to_date = {(r["since"], r["until"], r["family"]) for r in stored if r["stamp"] == stamp}
    stale: dict[tuple[date, date], set[str]] = {}
    old = []
    for r in stored:
        window = (r["since"], r["until"])
        if r["stamp"] == stamp:
            continue
        if window in defaults or r["until"] >= today - timedelta(days=RECENT_DAYS):
            stale.setdefault(window, set()).add(r["family"])
        else:
            old.append(r["id"])
    if old:
        with uow_factory() as uow:
            uow.stored_reports.drop(old)
            uow.commit()
    done = 0
    for since, until in sorted(defaults | set(stale)):
        families = stale.get((since, until), set())
        if (since, until) in defaults and (since, until, "") not in up_to_date:
            families.add("")
        if not families:  # a default window's reports are made together
            continue
        with uow_factory() as uow:
            was = uow.analytics.change_stamp()
            whole = _build(uow.analytics, policy, SalesWindow(since, until), size_key, was)
        if (since, until) in defaults:  # and each category of it
            families |= {family_text((c,)) for c in dict.fromkeys(whole.category)
                         if (since, until, family_text((c,))) not in up_to_date}
        for family in sorted(families):
            compute_report(uow_factory, policy,
                           SalesWindow(since, until, categories=_categories(family)), size_key,
                           whole=(whole, was))
            done += 1
    return {"refreshed": done, "dropped": len(old)}


def stored_form(report: ReportCells, policy: ReturnsPolicy) -> tuple[dict, list]:
    """A report as stored: the report-wide header and, per SKU in SKU order, (sku, place on
    the heat map, body: its figures from the report, its rates and tests)."""
    chosen = report.selection(None)
    body: list[dict] = []
    for s in range(len(report.sku_codes)):
        sku, category = report.sku_codes[s], report.sku_category[s]
        sizes: list[dict] = [{"item_id": int(report.item_id[c]), "size": report.size[c],
                  "sold": int(report.sold[c]),
                  "reasons": {code: int(n) for code, n in zip(
                      report.reason_codes, report.reasons[c], strict=True) if n},
                  "rate": chosen.cell_rate(c),
                  "fit_tests": [size_test(report, row, sku, report.size[c])
                                for row in report.tests.sizes.of(c)]}
                 for c in report.cells_of(s)]
        tests = [report.tests.skus.comparison(row) for row in report.tests.skus.of(s)]
        quality = next((t for t in tests if t.signal == "quality"), None)
        style: list[dict] = [{"sku": sku, "category": category, "fit": FIT_WORDS[t.signal],
                              **test_dict(t)} for t in tests if t.signal != "quality"]
        quality_test = None if quality is None else {"sku": sku, "category": category,
                                                     **test_dict(quality)}
        body.append({
            "category": category, "rate": chosen.sku_rate(s), "sizes": sizes,
            "style_tests": style, "quality_test": quality_test,
            "flagged": {"fit": sum(t["flagged"] for size in sizes for t in size["fit_tests"]),
                        "style": sum(t["flagged"] for t in style),
                        "quality": int(bool(quality_test and quality_test["flagged"]))}})
    sold = np.bincount(report.cell_sku, weights=report.sold, minlength=len(report.sku_codes))
    rate = np.nan_to_num(np.round(chosen.sku_rates, 4))
    # SKUs come in SKU order, so a stable sort keeps it among equals.
    heat = np.empty(len(report.sku_codes), dtype=np.int64)
    heat[np.lexsort((-rate, sold < policy.heat_min_units))] = np.arange(len(report.sku_codes))
    mix = report.reasons.sum(axis=0)
    header = {
        "tests_made": report.tests.made,
        "flagged": {kind: sum(b["flagged"][kind] for b in body)
                    for kind in ("fit", "style", "quality")},
        "skus": len(report.sku_codes),
        "reasons": {code: int(n) for code, n in zip(report.reason_codes, mix, strict=True)},
        **flagged_tests(report, SHOWN_SIGNALS),
    }
    return header, [(report.sku_codes[s], int(heat[s]), body[s])
                    for s in range(len(report.sku_codes))]


def alone(body: dict) -> dict:
    """A SKU's body with its rates shrunk over itself alone (a report asked for one SKU shows
    them so), its tests as the family's."""
    sizes = body["sizes"]
    if not sizes:
        return body
    returned = np.array([sum(s["reasons"].values()) for s in sizes], dtype=np.int64)
    sold = np.array([s["sold"] for s in sizes], dtype=np.int64)
    cell_rates, sku_rates = shrunk_rates(
        returned, sold, np.zeros(len(sizes), np.int64),
        np.asarray([body["category"]], dtype=object),
        np.asarray([s["size"] for s in sizes], dtype=object))
    return {**body, "rate": _rounded(sku_rates[0]),
            "sizes": [{**s, "rate": _rounded(r)} for s, r in zip(sizes, cell_rates,
                                                                 strict=True)]}


def _rounded(rate) -> float | None:
    return None if np.isnan(rate) else round(float(rate), 4)


def size_test(report: ReportCells, row: int, sku: str, size: str) -> dict:
    c = report.tests.sizes.comparison(row)
    return {"sku": sku, "size": size, "fit": FIT_WORDS.get(c.signal, c.signal), **test_dict(c)}


def test_dict(c: Comparison) -> dict:
    return {
        "units_sold": c.sold,
        "units_returned": c.hits,
        "share": round(c.share, 4),
        "rest_share": round(c.rest_share, 4),
        "p_value": c.p_value,
        "q_value": c.q_value,
        "flagged": c.flagged,
    }


def flagged_tests(report: ReportCells, most: int) -> dict:
    """The report's flagged tests, the surest (lowest q-value) `most` of each kind."""
    sizes, by_sku = report.tests.sizes, report.tests.skus

    def surest(rows: np.ndarray, q_values: np.ndarray) -> list[int]:
        return rows[np.argsort(q_values[rows], kind="stable")][:most].tolist()

    fit = [size_test(report, r, report.sku_codes[int(report.cell_sku[sizes.owner[r]])],
                     report.size[int(sizes.owner[r])])
           for r in surest(np.flatnonzero(sizes.flagged), sizes.q_value)]
    quality = by_sku.signal == by_sku.signals.index("quality")

    def sku_test(r: int) -> dict:
        c, s = by_sku.comparison(r), int(by_sku.owner[r])
        extra = {} if c.signal == "quality" else {"fit": FIT_WORDS[c.signal]}
        return {"sku": report.sku_codes[s], "category": report.sku_category[s], **extra,
                **test_dict(c)}

    return {"fit_signals": fit,
            "style_signals": [sku_test(r) for r in surest(
                np.flatnonzero(by_sku.flagged & ~quality), by_sku.q_value)],
            "quality_signals": [sku_test(r) for r in surest(
                np.flatnonzero(by_sku.flagged & quality), by_sku.q_value)]}


def report_key(policy: ReturnsPolicy, family: SalesWindow) -> tuple[date, date, str, str]:
    return family.since, family.until, family_text(family.categories), policy_key(policy)


def family_text(categories: tuple[str, ...] | None) -> str:
    return "" if categories is None else json.dumps(list(categories))


def _categories(family: str) -> tuple[str, ...] | None:
    return None if family == "" else tuple(json.loads(family))


def policy_key(policy: ReturnsPolicy) -> str:
    """What of the policy a report depends on: its reasons and their fit and quality marks,
    the heat map's threshold and the size order."""
    marks = [list(policy.reasons), [[d, list(c)] for d, c in _fit_codes(policy)],
             list(_quality_codes(policy)), policy.heat_min_units, list(policy.size_order)]
    return hashlib.sha256(json.dumps(marks).encode()).hexdigest()[:32]


def stamp_text(stamp: ChangeStamp) -> str:
    return json.dumps([list(map(list, stamp.growing)), [str(v) for v in stamp.items]])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
