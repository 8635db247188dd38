"""Returns analytics for planners: a return-rate heat map by SKU and size, reasons and flags."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from flask import render_template, request

from ..domain.access import Role
from ..domain.errors import DomainError
from ..extensions import policies, uow_factory
from ..http.auth import requires_role
from ..services.analytics import returns_analytics, size_key
from .forms import whole_number
from .pages import page_blueprint

bp = page_blueprint("planner_returns", __name__, url_prefix="/planner/returns")

WINDOWS = {30: "last 30 days", 90: "last 90 days", 180: "last 6 months", 365: "last year"}
DEFAULT_WINDOW = 90
# A heat map of hundreds of SKUs helps nobody; the worst come first and a filter narrows it.
MOST_SKUS = 60
HEAT_STEPS = 20


@bp.get("")
@requires_role(Role.PLANNER)
def returns_page():
    """Return rates by SKU × size for sales in a window, with reasons and fit/quality flags."""
    days = whole_number(request.args.get("window"), DEFAULT_WINDOW)
    days = days if days in WINDOWS else DEFAULT_WINDOW
    category = request.args.get("category", "").strip() or None
    until = policies().returns.today()
    error, status = None, 200
    try:
        found = returns_analytics(uow_factory(), policies().returns, category=category,
                                  since=until - timedelta(days=days - 1), until=until)
    except DomainError as exc:
        found, error, status = None, exc.detail, 422
    return render_template(
        "planner/returns.html", found=found, error=error, windows=WINDOWS, days=days,
        category=category or "", **(_shaped(found) if found else {}),
    ), status


def _shaped(found: dict) -> dict:
    """The service's answer arranged for the page: heat map rows, reason mix, flags."""
    reasons = policies().returns.reasons
    label = {code: r.label for code, r in reasons.items()}
    ranked = sorted(found["skus"], key=lambda r: (-(r["return_rate"] or 0), r["sku"]))
    shown = ranked[:MOST_SKUS]
    sizes = size_columns(shown, policies().returns.size_order)
    rates = [s["return_rate"] for row in shown for s in row["sizes"] if s["return_rate"]]
    mix: Counter = Counter()
    for row in found["skus"]:
        mix.update(row["reasons"])
    returned = sum(mix.values())
    flagged_sizes = {(t["sku"], t["size"]): t["fit"] for t in found["fit_signals"]}
    return {
        "rows": [{**row, "cells": {s["size"]: s for s in row["sizes"]}} for row in shown],
        "sizes": sizes, "hidden": len(ranked) - len(shown), "top_rate": max(rates, default=0),
        "mix": [{"code": code, "label": label.get(code, code), "units": units,
                 "share": units / returned if returned else 0}
                for code, units in mix.most_common() if units],
        "returned": returned, "labels": label, "flagged_sizes": flagged_sizes,
        "heat": heat_class, "share_class": share_class,
    }


def size_columns(rows: list[dict], size_order: tuple[str, ...]) -> list[str]:
    """Every size of the SKUs shown, in the policy's size order (XS before M before XXL)."""
    return sorted({s["size"] for row in rows for s in row["sizes"]}, key=size_key(size_order))


def heat_class(rate: float | None, top: float) -> str:
    """A background from white (no returns) to deep red (the worst rate shown), in 21 steps
    that planner.css colours, with ink that stays readable on each."""
    if rate is None:
        return "heat-none"
    strength = min(1.0, rate / top) if top else 0.0
    return f"heat-{round(strength * HEAT_STEPS)}"


def share_class(share: float) -> str:
    """The width of a reason's bar, to the nearest 5% (its figure is printed beside it)."""
    return f"share-{round(min(max(share, 0.0), 1.0) * HEAT_STEPS)}"
