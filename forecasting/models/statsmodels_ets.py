"""statsmodels ExponentialSmoothing, used selectively where it can win.

The numpy kernels cover every series; statsmodels' optimiser with a damped trend *and* a 52-week
season is worth its cost only for the biggest series with at least two seasons of history before
the holdout. It runs under a time budget, one series at a time, and a fit that raises or warns
(ConvergenceWarning, overflow) is discarded and counted: the series keeps its kernel model.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter

import numpy as np

SEASON = 52


def fit_one(y: np.ndarray, horizon: int) -> np.ndarray:
    """Fit damped-trend additive-seasonal ETS to one series; raise on any warning."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning means the fit is not to be trusted
        model = ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal="add",
                                     seasonal_periods=SEASON, initialization_method="estimated")
        fc = model.fit().forecast(horizon)
    fc = np.asarray(fc, dtype=float)
    if not np.isfinite(fc).all():
        raise FloatingPointError("non-finite forecast")
    return np.maximum(fc, 0.0)


def refine(y, sel, *, holdout_weeks: int, max_series: int, budget_s: float,
           counts: Counter) -> np.ndarray:
    """Try statsmodels on the largest eligible rows; adopt it where it beats the chosen model.

    Args:
        y: ``(n, T)`` history; sel: the :class:`forecasting.selection.Selection` to update.
        holdout_weeks: the last block is the holdout statsmodels must win on.
        max_series, budget_s: at most this many fits and this many seconds.
        counts: incremented with ``ets_statsmodels_tried``/``_won``, and ``ets_statsmodels`` for
            each failed fit (a counted fallback).

    Returns:
        Row numbers where the statsmodels forecast was adopted.
    """
    from forecasting.selection import CODE, WHY

    n, T = y.shape
    o = T - holdout_weeks
    if max_series <= 0 or o < 2 * SEASON or not len(sel.origins):
        return np.zeros(0, dtype=np.int64)
    nz = y > 0
    start = np.where(nz.any(axis=1), nz.argmax(axis=1), T)
    eligible = np.flatnonzero((o - start >= 2 * SEASON) & np.isfinite(sel.score))
    eligible = eligible[np.argsort(-y[eligible].sum(axis=1))][:max_series]
    adopted = []
    deadline = time.monotonic() + budget_s
    actual = y[:, o:]
    for i in eligible:
        if time.monotonic() > deadline:
            counts["ets_statsmodels_budget_exhausted"] += 1
            break
        counts["ets_statsmodels_tried"] += 1
        try:
            hold = fit_one(y[i, start[i]:o], holdout_weeks)
            mine = sel.holdout_forecast[i, -1]
            if np.mean((hold - actual[i]) ** 2) >= np.mean((mine - actual[i]) ** 2):
                continue
            sel.forecast[i] = fit_one(y[i, start[i]:], sel.forecast.shape[1])
        except Exception:  # noqa: BLE001 - any failure keeps the kernel model; it is counted
            counts["ets_statsmodels"] += 1
            continue
        sel.method[i] = CODE["ets_statsmodels"]
        sel.why[i] = WHY.index("statsmodels_holdout")
        counts["ets_statsmodels_won"] += 1
        adopted.append(i)
    return np.asarray(adopted, dtype=np.int64)
