"""The Theta method (Assimakopoulos & Nikolopoulos 2000) in its standard form, vectorised.

Hyndman & Billah (2003) showed the standard Theta forecast is simple exponential smoothing with a
drift of half the slope of the series' least-squares line:
``y(T+h) = level(T) + b/2 * (h - 1 + 1/alpha - (1 - alpha)^n / alpha)``, ``n`` the weeks fitted.
The level and ``alpha`` come from the SES kernel's grid, so all series advance together.
"""

from __future__ import annotations

import numpy as np

from forecasting.models.base import MethodFit, finish, pick_best
from forecasting.models.smoothing import SES_ALPHAS, ses_path


def ols_slope(y, start):
    """Slope of the least-squares line through each row's weeks from ``start`` on."""
    _n, T = y.shape
    t = np.arange(T, dtype=np.float64)[None, :]
    act = t >= start[:, None]
    cnt = np.maximum(act.sum(axis=1), 1)
    tm = np.where(act, t, 0).sum(axis=1) / cnt
    ym = np.where(act, y, 0).sum(axis=1) / cnt
    dt = np.where(act, t - tm[:, None], 0)
    sxx = (dt * dt).sum(axis=1)
    sxy = (dt * np.where(act, y - ym[:, None], 0)).sum(axis=1)
    return np.where(sxx > 0, sxy / np.maximum(sxx, 1e-12), 0.0)


def theta(y, start, horizon, *, alphas=SES_ALPHAS) -> MethodFit:
    """Standard Theta: SES plus half the linear-trend slope as drift."""
    n, T = y.shape
    level, sse = ses_path(y, start, alphas)
    best = pick_best(sse)
    r = np.arange(n)
    a = np.asarray(alphas, float)[best]
    b = ols_slope(y.astype(np.float64), start)
    fitted = np.maximum(T - start, 1)
    h = np.arange(1, horizon + 1)[None, :]
    with np.errstate(all="ignore"):
        drift = 0.5 * b[:, None] * (h - 1 + 1 / a[:, None] - (1 - a[:, None]) ** fitted[:, None]
                                    / a[:, None])
    fc = level[r, best][:, None] + drift
    return finish(fc, sse[r, best], np.maximum(T - 1 - start, 1), a)
