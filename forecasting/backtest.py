"""Backtests: rolling-origin forecast accuracy by method, and an inventory replay of the policy.

The replay runs the order-up-to policy week by week over a holdout with the actual sales and the
actual returns (returns arrive physically under both policies; only the return-aware policy plans
for them), and reports fill rate, average stock on hand, units ordered and lost sales.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from forecasting.classify import first_sale
from forecasting.models import FALLBACK, METHODS
from forecasting.panel import NO_GRADE, ItemParams, ReturnsData, SalesPanel, StockPosition
from forecasting.pipeline import Planner
from forecasting.replenishment import ReplenishmentOptions, round_order
from forecasting.selection import run_kernel


def errors(forecast, actual, history, *, season: int = 52):
    """MASE, WAPE and bias of ``forecast`` against ``actual`` (both ``(n, h)``).

    MASE divides each series' mean absolute error by the in-sample mean absolute error of the
    seasonal naive forecast since its first sale (Hyndman & Koehler 2006), with period
    ``m = season`` where the training history holds at least two seasons and ``m = 1`` (the
    one-week change) otherwise; ``m`` is returned as ``mase_m`` so every table can state it.
    Series with a zero scale are left out of the mean; ``mase_median`` is the median over the
    same series. WAPE is total absolute error over total actual; bias is total error over total
    actual.
    """
    e = forecast - actual
    T = history.shape[1]
    m = season if 2 * season <= T else 1
    start = first_sale(history)
    d = np.abs(history[:, m:] - history[:, :-m])
    act = np.arange(m, T)[None, :] >= (start + m)[:, None]
    scale = np.where(act, d, 0).sum(axis=1) / np.maximum(act.sum(axis=1), 1)
    use = scale > 0
    per = np.abs(e[use]).mean(axis=1) / scale[use]
    tot = float(actual.sum())
    return {"mase": float(per.mean()) if use.any() else np.nan,
            "mase_median": float(np.median(per)) if use.any() else np.nan, "mase_m": m,
            "wape": float(np.abs(e).sum() / tot) if tot else np.nan,
            "bias": float(e.sum() / tot) if tot else np.nan}


def forced_forecast(name, history, horizon):
    """Forecast every series with one method, walking its fallback chain where it cannot fit."""
    h = np.asarray(history, np.float64)
    out = np.zeros((len(h), horizon))
    rows = np.arange(len(h))
    start = first_sale(h)
    fell = 0
    while name is not None and rows.size:
        fit = run_kernel(name, h[rows], start[rows], horizon, Counter())
        ok = np.zeros(rows.size, bool) if fit is None else fit.ok
        out[rows[ok]] = fit.forecast[ok]
        rows = rows[~ok]
        fell += rows.size
        name = FALLBACK[name]
    return out, fell


@dataclass
class AccuracyReport:
    """Accuracy per method over the rolling origins, ``auto`` being the library's own choice."""

    rows: list

    def to_records(self) -> list[dict]:
        return [dict(r) for r in self.rows]

    def by_method(self) -> dict:
        return {r["method"]: r for r in self.rows}


def rolling_accuracy(sales: SalesPanel, returns: ReturnsData | None = None,
                     items: ItemParams | None = None, *, horizon: int = 13, n_origins: int = 1,
                     methods=tuple(METHODS), **planner_options) -> AccuracyReport:
    """Forecast the last ``n_origins`` blocks of ``horizon`` weeks from each origin and score.

    Each method in ``methods`` is forced on every series (falling back where it cannot fit);
    ``auto`` is the full :class:`~forecasting.pipeline.Planner` (selection, size split,
    reconciliation). Scores are pooled over origins; ``*_vs_snaive`` divide by seasonal naive.
    """
    T = sales.n_weeks
    fcs = {m: [] for m in (*methods, "auto")}
    acts, hists = [], []
    fell = dict.fromkeys(methods, 0)
    for k in range(n_origins, 0, -1):
        o = T - k * horizon
        hist = sales.y[:, :o].astype(np.float64)
        acts.append(sales.y[:, o : o + horizon].astype(np.float64))
        hists.append(hist)
        for m in methods:
            f, nf = forced_forecast(m, hist, horizon)
            fcs[m].append(f)
            fell[m] += nf
        last = sales.start_week + o - 1
        rets = returns.received_by(last) if returns is not None else None
        plan = Planner(sales.truncate(last), rets, None, items, horizon=horizon,
                       **planner_options).fit()
        fcs["auto"].append(plan.demand.forecast[:, :horizon])
    actual = np.concatenate(acts)
    history = np.concatenate([h[:, -min(h.shape[1] for h in hists):] for h in hists])
    rows = []
    for m, parts in fcs.items():
        r = {"method": m, **errors(np.concatenate(parts), actual, history),
             "fallback_series": fell.get(m, 0)}
        rows.append(r)
    base = next((r for r in rows if r["method"] == "seasonal_naive"), None)
    for r in rows:
        for key in ("mase", "wape"):
            r[f"{key}_vs_snaive"] = r[key] / base[key] if base and base[key] else np.nan
    return AccuracyReport(rows)


@dataclass
class ReplayReport:
    """Inventory replay figures for the return-aware and the return-blind policy."""

    aware: dict
    blind: dict
    weeks: int
    n_series: int

    def to_records(self) -> list[dict]:
        return [{"policy": "return_aware", **self.aware}, {"policy": "return_blind", **self.blind}]


def replay(sales: SalesPanel, returns: ReturnsData, items: ItemParams, *, weeks: int = 13,
           **planner_options) -> ReplayReport:
    """Replay both policies over the last ``weeks`` weeks of ``sales`` (see module docstring).

    Every week the :class:`~forecasting.pipeline.Planner` is run on what was known at the end of
    the previous week (sales, returns received, the return-aware policy's stock), as the nightly
    job would. Each week: receive orders due and actual restockable returns, serve actual demand
    (the rest is lost), and on review weeks order up to S. The return-blind policy orders up to
    the plan's ``blind_order_up_to`` against its own stock. Orders placed at the end of week t
    arrive at the start of week t + L + 1, so an order covers L + R weeks as in the formula.
    Policies start at their own order-up-to level with nothing on order. Both receive the same
    returns: a return-blind planner gets the parcels too, it just does not plan for them.
    """
    n, T = sales.y.shape
    o = T - weeks
    L = np.asarray(items.lead_time, int)
    R = np.maximum(np.asarray(items.review_period, int), 1)
    opts = planner_options.get("replenishment") or ReplenishmentOptions()
    demand = sales.y[:, o:].astype(np.float64)
    first = _plan(sales, returns, None, items, sales.start_week + o - 1, planner_options)
    back = _restockable_receipts(returns, first.returns.restockable_share, n,
                                 sales.start_week + o, weeks)
    rows = np.arange(n)
    state = {p: {"on_hand": np.ceil(u), "pipe": np.zeros((n, weeks + int(L.max()) + 2)),
                 "served": 0.0, "lost": 0.0, "ordered": 0.0, "stock": 0.0}
             for p, u in (("aware", first.replenishment.order_up_to),
                          ("blind", first.replenishment.blind_order_up_to))}
    aw, bl = state["aware"], state["blind"]
    for t in range(weeks):
        for st in state.values():
            st["on_hand"] += st["pipe"][:, t] + back[:, t]
            served = np.minimum(st["on_hand"], demand[:, t])
            st["on_hand"] -= served
            st["served"] += served.sum()
            st["lost"] += (demand[:, t] - served).sum()
            st["stock"] += st["on_hand"].sum()
        if t == weeks - 1 or not np.any((t + 1) % R == 0):
            continue
        cur = sales.start_week + o + t  # the week just finished
        future = aw["pipe"][:, t + 1 :]
        stock = StockPosition(
            on_hand=aw["on_hand"], reserved=np.zeros(n), returns_in_transit=np.zeros(n),
            on_order_series=np.repeat(rows, future.shape[1]),
            on_order_week=np.tile(cur + 1 + np.arange(future.shape[1]), n),
            on_order_units=future.ravel())
        plan = _plan(sales, returns, stock, items, cur, planner_options).replenishment
        ip_blind = bl["on_hand"] + bl["pipe"][:, t + 1 :].sum(axis=1)
        q_blind, _ = round_order(np.maximum(plan.blind_order_up_to - ip_blind, 0),
                                 items.case_pack, items.moq, rule=opts.moq_rule,
                                 threshold=opts.moq_threshold)
        review = (t + 1) % R == 0
        for st, q in ((aw, plan.order_qty), (bl, q_blind)):
            q = np.where(review, q, 0.0)
            st["pipe"][rows, t + L + 1] += q
            st["ordered"] += q.sum()
    total = demand.sum()
    out = {p: {"fill_rate": st["served"] / total if total else np.nan,
               "avg_on_hand": st["stock"] / weeks, "units_ordered": st["ordered"],
               "lost_sales": st["lost"], "demand": total,
               "target_service_level": float(np.mean(items.service_level))}
           for p, st in state.items()}
    return ReplayReport(aware=out["aware"], blind=out["blind"], weeks=weeks, n_series=n)


def _plan(sales, returns, stock, items, week, options):
    """The planner as the nightly job would run it at the end of ``week``."""
    return Planner(sales.truncate(week), returns.received_by(week), stock, items,
                   **options).fit()


def _restockable_receipts(returns, share_est, n, first_week, weeks):
    """``(n, weeks)`` restockable units received per replay week.

    Graded units count if A or B; units not graded yet count at the estimated restockable share.
    """
    rel = returns.receipt_week - first_week
    k = (rel >= 0) & (rel < weeks)
    share = np.where(returns.grade == NO_GRADE, share_est[returns.series],
                     (returns.grade <= 1).astype(float))
    back = np.bincount(returns.series[k] * weeks + rel[k], weights=(returns.units * share)[k],
                       minlength=n * weeks)
    return back.reshape(n, weeks)
