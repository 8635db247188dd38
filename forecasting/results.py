"""Outputs: dataclasses of arrays, one row per series, each with ``to_records()`` for storage."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, cast

import numpy as np


class _Records:
    """Mixin: turn aligned arrays into a list of plain dicts (2-D arrays become lists)."""

    ids: np.ndarray  # every result has one row per series id

    def to_records(self) -> list[dict]:
        """One dict per series with Python scalars and lists, ready for a database insert."""
        n = len(self.ids)
        cols = {}
        for f in fields(cast(Any, self)):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
                cols[f.name] = v.tolist()
        cols["unique_id"] = cols.pop("ids")  # the panel's column name, for storage
        keys = list(cols)
        return [dict(zip(keys, row, strict=True)) for row in zip(*cols.values(), strict=True)]


@dataclass
class DemandForecast(_Records):
    """Forecast per series for ``horizon`` weeks after ``origin_week``.

    Attributes:
        ids: series ids.
        forecast, lower, upper: ``(n, H)`` units per week. The interval is
            ``forecast +/- z sigma sqrt(1 + (h-1) alpha^2)`` at ``interval_level``, floored at 0.
        method: model used. why: ``holdout`` (lowest holdout MAE), ``short_history``,
            ``fallback`` (the chosen fit failed), ``no_demand`` or ``statsmodels_holdout``.
        runner_up, holdout_mae, runner_up_mae: the contest behind ``why`` (mean absolute
            error on the holdout, which ranks the methods); holdout_mse, runner_up_mse: the
            same contest's mean squared errors.
        level: ``sku_split`` (SKU model split by the size curve), ``own_model`` (the size's own
            model won on holdout) or ``category_curve`` (new size or SKU).
        demand_class: ADI/CV^2 class; share: the size's share of SKU gross demand.
        sigma: one-week forecast error used for intervals and safety stock.
        profile: for ``lifecycle`` forecasts (new products), the profile used and how many
            earlier launches stand behind it; empty otherwise.
    """

    ids: np.ndarray
    origin_week: int
    forecast: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    interval_level: float
    method: np.ndarray
    why: np.ndarray
    runner_up: np.ndarray
    holdout_mse: np.ndarray
    runner_up_mse: np.ndarray
    level: np.ndarray
    demand_class: np.ndarray
    share: np.ndarray
    sigma: np.ndarray
    profile: np.ndarray | None = None
    holdout_mae: np.ndarray | None = None
    runner_up_mae: np.ndarray | None = None

    def explain(self, i: int) -> str:
        """Why series ``i`` got its model, in one sentence."""
        i = range(len(self.ids))[i]  # negative indexes count from the end, as before
        return self.explanations(i, i + 1)[0]

    def explanations(self, start: int = 0, stop: int | None = None) -> list[str]:
        """:meth:`explain` for rows ``start:stop`` at once (Python scalars, not numpy ones:
        formatting a numpy scalar costs microseconds, which add up over a nightly run)."""
        what, err, ru_err = "MSE", self.holdout_mse, self.runner_up_mse
        if self.holdout_mae is not None and self.runner_up_mae is not None:
            what, err, ru_err = "MAE", self.holdout_mae, self.runner_up_mae
        cols = [getattr(self, name)[start:stop].tolist() for name in (
            "ids", "method", "demand_class", "level", "why", "runner_up")]
        cols += [err[start:stop].tolist(), ru_err[start:stop].tolist()]
        prof = (self.profile[start:stop].tolist() if self.profile is not None
                else [""] * len(cols[0]))
        out = []
        for uid, method, cls, level, why, runner_up, mse, runner_up_mse, pr in zip(
                *cols, prof, strict=True):
            base = f"{uid}: {method} ({cls} demand, {level})"
            if pr:
                out.append(f"{base}, new product: {pr}")
            elif why in ("holdout", "statsmodels_holdout") and runner_up:
                out.append(f"{base}, lowest holdout {what} {mse:.3g} against "
                           f"{runner_up} {runner_up_mse:.3g}")
            else:
                out.append(f"{base}, {why.replace('_', ' ')}")
        return out

    def to_long_records(self) -> list[dict]:
        """One dict per series and future week (``unique_id, week, forecast, lower, upper``)."""
        n, H = self.forecast.shape
        out = []
        for i in range(n):
            for h in range(H):
                out.append({"unique_id": str(self.ids[i]), "week": self.origin_week + h + 1,
                            "forecast": float(self.forecast[i, h]),
                            "lower": float(self.lower[i, h]), "upper": float(self.upper[i, h])})
        return out


@dataclass
class ReturnEstimates(_Records):
    """Return estimates per series.

    Attributes:
        rate, rate_sku, rate_category: probability a sold unit comes back (size, SKU, category).
        too_small, too_large, other_reason: split of the size's returns by reason.
        restockable_share: share of returns graded A or B.
        lag_median: weeks from sale to receipt (median of the smoothed, window-truncated law).
        lag_median_days: the same median in days, interpolated within the weekly law (whole
            weeks are up to 3.5 days off).
        lag_pmf: ``(n, W+1)`` that law: probability of coming back 0..W weeks after the sale.
        expected_restockable: ``(n, H)`` restockable units expected back in each future week, from
            past sales still inside their window plus forecast sales.
        units_returned, exposure: the evidence (returned units; units sold weighted by the share
            of their return lag that has elapsed).
    """

    ids: np.ndarray
    rate: np.ndarray
    rate_sku: np.ndarray
    rate_category: np.ndarray
    too_small: np.ndarray
    too_large: np.ndarray
    other_reason: np.ndarray
    restockable_share: np.ndarray
    lag_median: np.ndarray
    lag_median_days: np.ndarray
    lag_pmf: np.ndarray
    expected_restockable: np.ndarray
    expected_from_past_sales: np.ndarray
    units_returned: np.ndarray
    exposure: np.ndarray


@dataclass
class ReplenishmentPlan(_Records):
    """Order suggestion per series with every term of the order-up-to arithmetic.

    Attributes:
        protection_weeks: lead time + review period (L+R).
        gross_demand: forecast units sold over L+R.
        expected_returns: restockable returns expected back within L+R (past sales, at least the
            restockable part of returns in transit, plus forecast sales).
        service_level, safety_stock_method (``normal``/``quantile``), sigma_window, safety_stock.
        order_up_to: S = gross_demand - expected_returns + safety_stock.
        inventory_position: on hand - reserved + on order.
        raw_order, order_qty (after case pack and MOQ), moq_applied (+1 raised, -1 dropped).
        order_value: order_qty * unit cost.
        blind_*: the same computed without returns.
        service_target: ``cycle``, ``fill`` or ``cost``; cycle_level: the cycle service it
            works out to (the critical ratio for ``cost``, the category's common level for a
            pooled ``fill``; NaN for a fill per item).
        policy: ``order_up_to`` or ``rQ`` (fixed order cost); order_lot: ``Q`` (0 otherwise);
            under ``rQ``, ``order_up_to`` holds the reorder point ``r``.
        units_still_out: units sold within the return window and not back yet (the known
            returns pipeline); returns_from_past_sales: the restockable units they (and returns
            in transit or awaiting grading) are expected to send back within L+R;
            returns_by_week: ``(n, max L+R)`` of that, week by week (past sales only).
        blind_sigma_window: the spread of gross sales over L+R alone (the one spread, before
            the returns terms ``sigma_window`` adds).
    """

    ids: np.ndarray
    protection_weeks: np.ndarray
    gross_demand: np.ndarray
    expected_returns: np.ndarray
    service_level: np.ndarray
    safety_stock_method: np.ndarray
    sigma_window: np.ndarray
    safety_stock: np.ndarray
    order_up_to: np.ndarray
    on_hand: np.ndarray
    reserved: np.ndarray
    on_order: np.ndarray
    inventory_position: np.ndarray
    raw_order: np.ndarray
    order_qty: np.ndarray
    moq_applied: np.ndarray
    order_value: np.ndarray
    blind_safety_stock: np.ndarray
    blind_order_up_to: np.ndarray
    blind_order_qty: np.ndarray
    service_target: np.ndarray | None = None
    policy: np.ndarray | None = None
    order_lot: np.ndarray | None = None
    cycle_level: np.ndarray | None = None
    units_still_out: np.ndarray | None = None
    returns_from_past_sales: np.ndarray | None = None
    returns_by_week: np.ndarray | None = None
    blind_sigma_window: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.ids)
        if self.returns_by_week is None:
            self.returns_by_week = np.zeros((n, 0))
        defaults = {"service_target": "cycle", "policy": "order_up_to", "order_lot": 0.0,
                    "cycle_level": np.nan, "units_still_out": 0.0,
                    "returns_from_past_sales": 0.0, "blind_sigma_window": np.nan}
        for name, value in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, np.full(n, value, dtype=object if isinstance(value, str)
                                            else float))

    def explain(self, i: int) -> str:
        """The arithmetic behind the suggestion for series ``i``, in one paragraph."""
        i = range(len(self.ids))[i]  # negative indexes count from the end, as before
        return self.explanations(i, i + 1)[0]

    def explanations(self, start: int = 0, stop: int | None = None) -> list[str]:
        """:meth:`explain` for rows ``start:stop`` at once."""
        names = [f.name for f in fields(self)]
        cols = [getattr(self, name)[start:stop].tolist() for name in names]
        rows = zip(*cols, strict=True)
        return [_plan_sentence(dict(zip(names, row, strict=True))) for row in rows]


def target_phrase(target: str, level: float, cycle_level: float) -> str:
    """The service target in words: ``cycle service 95%``, ``fill rate 98%``, ``cost ...``."""
    if target == "fill":
        if np.isfinite(cycle_level):  # a category's pooled fill, one cycle level for its items
            return (f"fill rate {level:.0%} of the category's demand (cycle service "
                    f"{cycle_level:.1%} on each of its items)")
        return f"fill rate {level:.0%}"
    if target == "cost":
        return f"cost trade-off (critical ratio {cycle_level:.1%})"
    return f"cycle service {level:.0%}"


def _plan_sentence(g: dict) -> str:
    """One suggestion's arithmetic, from the plain values of its row."""
    moq = {1: ", raised to the MOQ", -1: ", dropped (below MOQ)", 0: ""}[int(g["moq_applied"])]
    target = target_phrase(g["service_target"], g["service_level"], g["cycle_level"])
    if g["policy"] == "rQ":
        level = f"reorder point r {g['order_up_to']:.1f}"
        policy = f"(r,Q) with lot Q = {g['order_lot']:.0f} (fixed order cost)"
    else:
        level = f"order-up-to {g['order_up_to']:.1f}"
        policy = "order-up-to"
    return (
        f"{g['ids']}: {policy}, service level target {target}; demand over "
        f"{g['protection_weeks']} weeks {g['gross_demand']:.1f} - restockable returns expected "
        f"{g['expected_returns']:.1f} "
        f"+ safety stock {g['safety_stock']:.1f} ({g['safety_stock_method']}, sigma "
        f"{g['sigma_window']:.1f}) = {level}; inventory position "
        f"{g['inventory_position']:.1f} (on hand {g['on_hand']:.0f} - reserved "
        f"{g['reserved']:.0f} + on order {g['on_order']:.0f}); raw order {g['raw_order']:.1f} "
        f"-> {g['order_qty']:.0f}{moq}. Returns pipeline: {g['units_still_out']:.0f} units sold "
        f"and still out, {g['returns_from_past_sales']:.1f} restockable expected back within "
        f"{g['protection_weeks']} weeks. Return-blind: order-up-to "
        f"{g['blind_order_up_to']:.1f}, order {g['blind_order_qty']:.0f}."
    )


@dataclass
class PlanResult:
    """Everything one run produces.

    Attributes:
        demand, returns, replenishment: per-series results (same row order as the input panel).
        diagnostics: counts (methods chosen, fallbacks, statsmodels use) and timings.
    """

    demand: DemandForecast
    returns: ReturnEstimates
    replenishment: ReplenishmentPlan
    diagnostics: dict
