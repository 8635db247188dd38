"""Backtests: rolling-origin forecast accuracy by method, and an inventory replay of the policy.

The replay (:func:`replay`, in :mod:`forecasting.replay`) runs the policies week by week over a
holdout for a grid of targets and compares them at equal achieved fill rate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from forecasting.classify import first_sale
from forecasting.models import FALLBACK, METHODS
from forecasting.panel import ItemParams, ReturnsData, SalesPanel
from forecasting.pipeline import Planner
from forecasting.replay import ReplayReport, replay
from forecasting.selection import run_kernel

__all__ = ["AccuracyReport", "ReplayReport", "errors", "errors_at_bias", "forced_forecast",
           "replay", "rolling_accuracy", "series_mase"]


def series_mase(forecast, actual, history, *, season: int = 52):
    """Each series' MASE, as :func:`errors` averages it: ``((n,) MASE, m)``.

    A series' mean absolute error over the in-sample mean absolute error of the seasonal naive
    forecast since its first sale, ``m = season`` where the history holds two seasons, else
    ``m = 1``. NaN where that scale is zero (the series is left out of the mean and median).
    """
    T = history.shape[1]
    m = season if 2 * season <= T else 1
    start = first_sale(history)
    d = np.abs(history[:, m:] - history[:, :-m])
    act = np.arange(m, T)[None, :] >= (start + m)[:, None]
    scale = np.where(act, d, 0).sum(axis=1) / np.maximum(act.sum(axis=1), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.where(scale > 0, np.abs(forecast - actual).mean(axis=1) / scale, np.nan)
    return per, m


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
    per, m = series_mase(forecast, actual, history, season=season)
    per = per[np.isfinite(per)]
    tot = float(actual.sum())
    return {"mase": float(per.mean()) if per.size else np.nan,
            "mase_median": float(np.median(per)) if per.size else np.nan, "mase_m": m,
            "wape": float(np.abs(e).sum() / tot) if tot else np.nan,
            "bias": float(e.sum() / tot) if tot else np.nan}


def errors_at_bias(forecast, actual, history, bias: float, *, season: int = 52):
    """:func:`errors` of ``forecast`` scaled by one constant so that its total bias is ``bias``.

    A diagnostic, not a forecast: MASE is an absolute error, and on skewed weekly sales a lower
    forecast scores better whatever its accuracy, so two methods at different totals are
    compared at the same one (each rival's bias) to tell accuracy from level.
    """
    own = errors(forecast, actual, history, season=season)["bias"]
    return errors(forecast * (1 + bias) / (1 + own), actual, history, season=season)


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
    fcs: dict[str, list] = {m: [] for m in (*methods, "auto")}
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
