"""Returns analytics for planners: a return-rate heat map by SKU and size, reasons and flags."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from flask import render_template, request

from ..domain.access import Role
from ..domain.errors import DomainError, FieldError, ValidationFailed
from ..domain.text import MAX_CATEGORY_CHARS
from ..extensions import policies, uow_factory
from ..http.auth import requires_role
from ..http.schemas import DATE_RANGE
from ..services.analytics import PAGE_WINDOW_DAYS, latest_sale_day, returns_heat_map, size_key
from ..services.report_requests import ReportComputing
from ..services.sku_returns import weekly_returns
from .forms import whole_number
from .pages import page_blueprint
from .trend_charts import sku_returns_chart

bp = page_blueprint("planner_returns", __name__, url_prefix="/planner/returns")

WINDOW_WORDS = {30: "last 30 days", 90: "last 90 days", 180: "last 6 months", 365: "last year"}
# The service's list: the returns-reports job keeps each of these windows computed.
WINDOWS = {days: WINDOW_WORDS[days] for days in PAGE_WINDOW_DAYS}
DEFAULT_WINDOW = 90
# A heat map of hundreds of SKUs helps nobody; the worst come first and a filter narrows it.
MOST_SKUS = 60
MOST_INSPECTION_ROWS = 50  # the most refused or deducted reason × SKU pairs
HEAT_STEPS = 20


@bp.get("")
@requires_role(Role.PLANNER)
def returns_page():
    """Return rates by SKU × size for sales in a window, with reasons and fit/quality flags.
    The window ends on the chosen day, by default the last day with sales."""
    days = whole_number(request.args.get("window"), DEFAULT_WINDOW)
    days = days if days in WINDOWS else DEFAULT_WINDOW
    category = request.args.get("category", "").strip() or None
    error, status, found, computing = None, 200, None, None
    try:
        if category is not None and len(category) > MAX_CATEGORY_CHARS:
            raise ValidationFailed(f"A category has at most {MAX_CATEGORY_CHARS} characters.",
                                   errors=[FieldError("category", "too long")])
        until = _until(request.args.get("until", "").strip(), category)
        answer = returns_heat_map(
            uow_factory(), policies().returns, category=category,
            since=until - timedelta(days=days - 1), until=until, most=MOST_SKUS)
        if isinstance(answer, ReportComputing):  # a window nobody asked for: being computed
            computing, status = answer, 202
        else:
            found = answer
            found["inspection"] = found["inspection"][:MOST_INSPECTION_ROWS]
    except DomainError as exc:
        until, error, status = None, exc.detail, 422
    shaped = _shaped(found) if found else {}
    page = render_template(
        "planner/returns.html", found=found, error=error, windows=WINDOWS, days=days,
        category=category or "", until=until, computing=computing, **shaped,
        **(_sku_chart(shaped, until, days) if found else {}),
    )
    headers = {"Retry-After": str(computing.retry_after)} if computing else {}
    return page, status, headers


def _sku_chart(shaped: dict, until: date, days: int) -> dict:
    """The weekly chart of the SKU asked for, else of the first SKU of the heat map."""
    chosen = request.args.get("chart", "").strip()[:64] or (
        shaped["rows"][0]["sku"] if shaped["rows"] else "")
    if not chosen:
        return {"chart_sku": "", "sku_chart": None}
    weeks = weekly_returns(uow_factory(), chosen, since=until - timedelta(days=days - 1),
                           until=until)
    if not any(w["units_sold"] for w in weeks):
        return {"chart_sku": chosen, "sku_chart": None}
    return {"chart_sku": chosen,
            "sku_chart": sku_returns_chart(chosen, weeks, shaped["labels"])}


def _until(typed: str, category: str | None) -> date:
    if typed:
        try:
            day = date.fromisoformat(typed)
        except ValueError:
            raise ValidationFailed(
                f"Enter the last sale day as a date (YYYY-MM-DD), not {typed[:40]!r}.",
                errors=[FieldError("until", "a date")]) from None
        first, last = DATE_RANGE
        if not first <= day <= last:
            # The API's years: the window is counted back from the day (from year 1 that
            # failed), and a far day would set a report computing for nobody.
            raise ValidationFailed(
                f"Enter the last sale day between {first} and {last}, not {day}.",
                errors=[FieldError("until", "a date in range")])
        return day
    return latest_sale_day(uow_factory(), category) or policies().returns.today()


def _shaped(found: dict) -> dict:
    """The service's answer arranged for the page: heat map rows, reason mix, flags."""
    reasons = policies().returns.reasons
    label = {code: r.label for code, r in reasons.items()}
    # The service ranks by the shrunk rate, SKUs with too few units sold to say anything
    # last: 1 sold and 1 back is not the worst SKU of the range.
    least = policies().returns.heat_min_units
    shown = found["skus"]
    sizes = size_columns(shown, policies().returns.size_order)
    rates = [s["shrunk_return_rate"] for row in shown for s in row["sizes"]
             if s["units_sold"] >= least]
    mix = Counter(found["reasons"])
    returned = sum(mix.values())
    flagged_sizes = {(t["sku"], t["size"]): t["fit"] for t in found["fit_signals"]}
    return {
        "rows": [{**row, "cells": {s["size"]: s for s in row["sizes"]}} for row in shown],
        "sizes": sizes, "hidden": found["skus_total"] - len(shown),
        "top_rate": max(rates, default=0),
        "mix": [{"code": code, "label": label.get(code, code), "units": units,
                 "share": units / returned if returned else 0}
                for code, units in mix.most_common() if units],
        "returned": returned, "labels": label, "flagged_sizes": flagged_sizes,
        "heat": heat_class, "share_class": share_class, "least": least,
    }


def size_columns(rows: list[dict], size_order: tuple[str, ...]) -> list[str]:
    """Every size of the SKUs shown, in the policy's size order (XS before M before XXL)."""
    return sorted({s["size"] for row in rows for s in row["sizes"]}, key=size_key(size_order))


def heat_class(rate: float | None, top: float, sold: int | None = None,
               least: int = 0) -> str:
    """A background from white (no returns) to deep red (the worst rate shown), in 21 steps
    that planner.css colours, with ink that stays readable on each; a cell with fewer than
    `least` units sold stays uncoloured ("heat-thin")."""
    if rate is None:
        return "heat-none"
    if sold is not None and sold < least:
        return "heat-thin"
    strength = min(1.0, rate / top) if top else 0.0
    return f"heat-{round(strength * HEAT_STEPS)}"


def share_class(share: float) -> str:
    """The width of a reason's bar, to the nearest 5% (its figure is printed beside it)."""
    return f"share-{round(min(max(share, 0.0), 1.0) * HEAT_STEPS)}"
