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

import gc
import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from ..domain.errors import Conflict
from ..domain.fit_signals import Comparison
from ..domain.returns import ReturnsPolicy
from ..domain.sales_window import SalesWindow
from ..persistence.repositories.analytics import ChangeStamp
from ..persistence.repositories.stored_reports import COMPUTING
from ..persistence.uow import UowFactory
from .analytics_report import ReportCells, build_cells, fit_codes, quality_codes, shrunk_rates

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


def stored_report(uow, policy: ReturnsPolicy, family: SalesWindow, *,
                  now: datetime | None = None, any_age: bool = False) -> StoredReport | None:
    """The stored report of the family's window if it may be served (its data unchanged, or
    younger than the policy's report_max_age_minutes, or `any_age`), else None: compute it."""
    found = uow.stored_reports.find(*report_key(policy, family))
    if found is None or found["stamp"] == COMPUTING:  # a placeholder is never served
        return None
    current = found["stamp"] == stamp_text(uow.analytics.change_stamp())
    computed_at = _aware(found["computed_at"])
    if current or any_age or (now or datetime.now(UTC)) - computed_at < timedelta(
            minutes=policy.report_max_age_minutes):
        return StoredReport(found["id"], found["header"], computed_at, current)
    return None


def compute_report(uow_factory: UowFactory, policy: ReturnsPolicy, family: SalesWindow,
                   size_key) -> StoredReport:
    """Compute the family's report and store it in place of the one before."""
    started = time.perf_counter()
    try:
        with uow_factory() as uow, collector_paused():
            stamp = uow.analytics.change_stamp()
            cells = build_cells(uow.analytics, policy, family, size_key, stamp)
            stored = _store(uow, policy, family, cells, stamp, started)
            uow.commit()
    except Conflict:  # another reader stored the same report first: read theirs
        with uow_factory() as uow:
            found = uow.stored_reports.find(*report_key(policy, family))
        if found is None or found["stamp"] == COMPUTING:
            raise
        return StoredReport(found["id"], found["header"], _aware(found["computed_at"]), True)
    return stored


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a report is laid out: it makes a million small
    acyclic dicts and lists (freed by their counts), and the collections their allocation set
    off scanned them again and again, a quarter of laying out a report of 100,000 items."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _store(uow, policy: ReturnsPolicy, family: SalesWindow, cells: ReportCells,
           stamp: ChangeStamp, started: float, before: dict | None = None) -> StoredReport:
    """Store the report; when `before` (the stored report of the same key: id, digest) has
    the same figures, only its stamp and time change: a pass after a sale in one category
    leaves the other categories' reports as they were instead of writing them again."""
    header, skus = stored_form(cells, policy)
    bodies = [(sku, rank, json.dumps(body, separators=(",", ":"))) for sku, rank, body in skus]
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for sku, rank, body in bodies:
        digest.update(f"{sku}\t{rank}\t{body}\n".encode())
    header["digest"] = digest.hexdigest()
    # Not a figure (outside the digest): the categories the job cuts from a whole window, so
    # it can tell a whole report a read stored from one whose categories are kept too.
    header["categories"] = list(dict.fromkeys(str(c) for c in cells.category))
    computed_at = datetime.now(UTC)
    compute_ms = round(1000 * (time.perf_counter() - started))
    if before is not None and before["digest"] == header["digest"]:
        uow.stored_reports.touch(before["id"], stamp=stamp_text(stamp), computed_at=computed_at,
                                 compute_ms=compute_ms)
        report_id = before["id"]
    else:
        report_id = uow.stored_reports.replace(
            *report_key(policy, family), stamp=stamp_text(stamp), computed_at=computed_at,
            compute_ms=compute_ms, header=header, skus=bodies)
    # Not current if a row committed while the window was summed (the sums may hold it).
    return StoredReport(report_id, header, computed_at, cells.settled)


def default_windows(today: date, last_sale_day: date | None,
                    page_days: tuple[int, ...]) -> set[tuple[date, date]]:
    """The windows kept computed whatever was read: the API's default (the 90 days ending
    today) and every window the planner page offers, ending on the last day with sales (the
    page's default end), so no planner waits for a report."""
    last = last_sale_day or today
    return {(today - timedelta(days=DEFAULT_DAYS - 1), today),
            *((last - timedelta(days=days - 1), last) for days in (DEFAULT_DAYS, *page_days))}


def refresh_reports(uow_factory: UowFactory, policy: ReturnsPolicy, size_key, *,
                    today: date, last_sale_day: date | None,
                    page_days: tuple[int, ...] = ()) -> dict:
    """The scheduler's pass: store the default windows' reports (every category, and each
    category alone) if missing or out of date, bring the other stored reports of recent
    windows up to date (those of the `report_windows_kept` windows computed last), and drop
    the out-of-date rest. A window is summed once:
    each category's report is cut from the whole window's."""
    key_of_policy = policy_key(policy)
    with uow_factory() as uow:
        stamp = stamp_text(uow.analytics.change_stamp())
        stored = [r for r in uow.stored_reports.every() if r["policy_key"] == key_of_policy]
    defaults = default_windows(today, last_sale_day, page_days)
    up_to_date = {(r["since"], r["until"], r["family"]) for r in stored if r["stamp"] == stamp}
    # A default window's whole report a read stored (before the job's first pass) leaves its
    # categories to the job: cut those not kept, though the whole is up to date.
    uncut = {(r["since"], r["until"]) for r in stored
             if r["family"] == "" and r["stamp"] == stamp and any(
                 (r["since"], r["until"], family_text((c,))) not in up_to_date
                 for c in r["categories"] or ())}
    before = {(r["since"], r["until"], r["family"]): r for r in stored}
    stale, old = _out_of_date(stored, stamp, defaults, today - timedelta(days=RECENT_DAYS),
                              policy.report_windows_kept)
    if old:
        with uow_factory() as uow:
            uow.stored_reports.drop(old)
            uow.commit()
    done = rewritten = 0
    for since, until in sorted(defaults | set(stale)):
        families = stale.get((since, until), set())
        if (since, until) in defaults and (since, until, "") not in up_to_date:
            families.add("")
        if not families and (since, until) not in uncut & defaults:
            continue  # a default window's reports are made together
        # One transaction a window: its reports are replaced together.
        with uow_factory() as uow, collector_paused():
            started = time.perf_counter()
            was = uow.analytics.change_stamp()
            whole = build_cells(uow.analytics, policy, SalesWindow(since, until), size_key, was)
            if (since, until) in defaults:  # and each category of it
                families |= {family_text((c,)) for c in dict.fromkeys(whole.category)
                             if (since, until, family_text((c,))) not in up_to_date}
            for family in sorted(families):
                categories = _categories(family)
                cells = whole if categories is None else whole.of_categories(categories, policy)
                kept = before.get((since, until, family))
                made = _store(uow, policy, SalesWindow(since, until, categories=categories),
                              cells, was, started, kept)
                started = time.perf_counter()
                done += 1
                rewritten += kept is None or made.id != kept["id"]
            uow.commit()
    return {"refreshed": done, "rewritten": rewritten, "dropped": len(old)}


def _out_of_date(stored: list[dict], stamp: str, defaults: set[tuple[date, date]],
                 recent_from: date, others_kept: int
                 ) -> tuple[dict[tuple[date, date], set[str]], list[int]]:
    """The out-of-date reports to compute again (their families by window: the default
    windows', and those of the `others_kept` other recent windows computed last) and the ids
    of the rest, to drop."""
    stale: dict[tuple[date, date], set[str]] = {}
    ids: dict[tuple[date, date], list[int]] = {}
    newest: dict[tuple[date, date], datetime] = {}
    old = []
    for r in stored:
        window = (r["since"], r["until"])
        if r["stamp"] == stamp:
            continue
        if window in defaults or r["until"] >= recent_from:
            stale.setdefault(window, set()).add(r["family"])
            ids.setdefault(window, []).append(r["id"])
            newest[window] = max(newest.get(window, r["computed_at"]), r["computed_at"])
        else:
            old.append(r["id"])
    others = sorted((w for w in stale if w not in defaults), key=newest.__getitem__,
                    reverse=True)
    for window in others[others_kept:]:
        stale.pop(window)
        old += ids[window]
    return stale, old


def stored_form(report: ReportCells, policy: ReturnsPolicy) -> tuple[dict, list]:
    """A report as stored: the report-wide header and, per SKU in SKU order, (sku, place on
    the heat map, body: its figures from the report, its rates and tests)."""
    chosen = report.selection(None)
    sku_codes, sku_category = report.sku_codes, report.sku_category
    sizes_table, skus_table = report.tests.sizes, report.tests.skus
    cell_sku = report.cell_sku.tolist()
    # Columns as lists first: indexing a numpy array per test (200,000 at large) costs more
    # than the test's dict.
    size_tests: list[list[dict]] = [[] for _ in range(len(report.sold))]
    fit_words = [FIT_WORDS.get(name, name) for name in sizes_table.signals]
    for c, signal, test in zip(sizes_table.owner.tolist(), sizes_table.signal.tolist(),
                               _test_dicts(sizes_table), strict=True):
        size_tests[c].append({"sku": sku_codes[cell_sku[c]], "size": report.size[c],
                              "fit": fit_words[signal], **test})
    style: list[list[dict]] = [[] for _ in sku_codes]
    quality: list[dict | None] = [None] * len(sku_codes)
    for s, signal_at, test in zip(skus_table.owner.tolist(), skus_table.signal.tolist(),
                                  _test_dicts(skus_table), strict=True):
        signal = skus_table.signals[signal_at]
        if signal == "quality":
            quality[s] = {"sku": sku_codes[s], "category": sku_category[s], **test}
        else:
            style[s].append({"sku": sku_codes[s], "category": sku_category[s],
                             "fit": FIT_WORDS[signal], **test})
    cell_rates = [None if r != r else round(r, 4) for r in chosen.cell_rates.tolist()]
    sku_rates = [None if r != r else round(r, 4) for r in chosen.sku_rates.tolist()]
    codes, item_ids, sold = report.reason_codes, report.item_id.tolist(), report.sold.tolist()
    reasons = report.reasons.tolist()
    body: list[dict] = []
    for s in range(len(sku_codes)):
        sizes: list[dict] = [{"item_id": item_ids[c], "size": report.size[c], "sold": sold[c],
                  "reasons": {code: n for code, n in zip(codes, reasons[c], strict=True) if n},
                  "rate": cell_rates[c], "fit_tests": size_tests[c]}
                 for c in report.cells_of(s)]
        quality_test = quality[s]
        body.append({
            "category": sku_category[s], "rate": sku_rates[s], "sizes": sizes,
            "style_tests": style[s], "quality_test": quality_test,
            "flagged": {"fit": sum(t["flagged"] for size in sizes for t in size["fit_tests"]),
                        "style": sum(t["flagged"] for t in style[s]),
                        "quality": int(quality_test is not None and quality_test["flagged"])}})
    sku_sold = np.bincount(report.cell_sku, weights=report.sold, minlength=len(sku_codes))
    rate = np.nan_to_num(np.round(chosen.sku_rates, 4))
    # SKUs come in SKU order, so a stable sort keeps it among equals.
    heat = np.empty(len(sku_codes), dtype=np.int64)
    heat[np.lexsort((-rate, sku_sold < policy.heat_min_units))] = np.arange(len(sku_codes))
    mix = report.reasons.sum(axis=0)
    header = {
        "tests_made": report.tests.made,
        "flagged": {kind: sum(b["flagged"][kind] for b in body)
                    for kind in ("fit", "style", "quality")},
        "skus": len(sku_codes),
        "reasons": {code: int(n) for code, n in zip(codes, mix, strict=True)},
        **flagged_tests(report, SHOWN_SIGNALS),
    }
    heat_rank = heat.tolist()
    return header, [(sku_codes[s], heat_rank[s], body[s]) for s in range(len(sku_codes))]


def _test_dicts(table) -> list[dict]:
    """Each test of a table as the API shows it (test_dict), made from its columns at once."""
    hits, sold = table.hits.tolist(), table.sold.tolist()
    rest_hits, rest_sold = table.rest_hits.tolist(), table.rest_sold.tolist()
    return [{"units_sold": n, "units_returned": k, "share": round(k / n, 4),
             "rest_share": round(rk / rn, 4), "p_value": p, "q_value": q, "flagged": f}
            for k, n, rk, rn, p, q, f in zip(hits, sold, rest_hits, rest_sold,
                                             table.p_value.tolist(), table.q_value.tolist(),
                                             table.flagged.tolist(), strict=True)]


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
    marks = [list(policy.reasons), [[d, list(c)] for d, c in fit_codes(policy)],
             list(quality_codes(policy)), policy.heat_min_units, list(policy.size_order)]
    return hashlib.sha256(json.dumps(marks).encode()).hexdigest()[:32]


def stamp_text(stamp: ChangeStamp) -> str:
    return json.dumps([list(map(list, stamp.growing)), [str(v) for v in stamp.items]])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
