"""statsmodels ExponentialSmoothing, used selectively where it can win.

The numpy kernels cover every series; statsmodels' optimiser with a damped trend *and* a 52-week
season is worth its cost only for the biggest series with at least two seasons of history before
the holdout. Its budget is work, not time: at most ``max_series`` series, chosen by volume with a
threshold fixed for the whole run (so the same series are tried whatever the machine load, the
number of workers or the chunking). A fit that raises or warns (ConvergenceWarning, overflow) is
discarded and counted: the series keeps its kernel model.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

from forecasting.classify import first_sale

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


def refine(y, sel, *, holdout_weeks: int, max_series: int, counts: Counter,
           min_units: float = 0.0) -> np.ndarray:
    """Try statsmodels on the largest eligible rows; adopt it where it beats the chosen model.

    Args:
        y: ``(n, T)`` history; sel: the :class:`forecasting.selection.Selection` to update.
        holdout_weeks: the last block is the holdout statsmodels must win on.
        max_series: at most this many series are tried (a work budget: the result never
            depends on how fast the machine is).
        min_units: only series that sold at least this many units are tried (see
            ``Planner._statsmodels_threshold``).
        counts: incremented with ``ets_statsmodels_tried``/``_won``, and ``ets_statsmodels`` for
            each failed fit (a counted fallback).

    Returns:
        Row numbers where the statsmodels forecast was adopted.
    """
    from forecasting.selection import CODE, WHY

    _n, T = y.shape
    o = T - holdout_weeks
    if max_series <= 0 or o < 2 * SEASON or not len(sel.origins):
        return np.zeros(0, dtype=np.int64)
    start = first_sale(y)
    eligible = np.flatnonzero(o - start >= 2 * SEASON)  # two seasons before the holdout
    vol = y[eligible].sum(axis=1, dtype=np.float64)
    keep = np.isfinite(sel.score[eligible]) & (vol >= min_units)
    eligible, vol = eligible[keep], vol[keep]
    eligible = eligible[np.argsort(-vol, kind="stable")][:max_series]
    adopted = []
    actual = y[:, o:]
    for i in eligible:
        counts["ets_statsmodels_tried"] += 1
        try:
            hold = fit_one(y[i, start[i]:o], holdout_weeks)
            mine = sel.holdout_forecast[i, -1]
            # Absolute error, as the kernels' contest is judged (forecasting.selection).
            if np.mean(np.abs(hold - actual[i])) >= np.mean(np.abs(mine - actual[i])):
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
