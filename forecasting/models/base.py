"""The result type shared by all kernels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MethodFit:
    """Fit of one method on many series.

    Attributes:
        forecast: ``(n, horizon)`` point forecasts, clipped at zero.
        sigma: ``(n,)`` root mean squared in-sample one-step error.
        alpha: ``(n,)`` level smoothing constant (or equivalent) used to widen the interval:
            the h-step variance is ``sigma^2 * (1 + (h - 1) * alpha^2)`` as for a local level.
        ok: ``(n,)`` False where the fit was not finite (the caller falls back).
    """

    forecast: np.ndarray
    sigma: np.ndarray
    alpha: np.ndarray
    ok: np.ndarray


def finish(forecast, sse, count, alpha, n_ok_extra=None) -> MethodFit:
    """Clip, measure the error and mark non-finite rows; shared tail of every kernel."""
    with np.errstate(all="ignore"):
        sigma = np.sqrt(sse / np.maximum(count, 1))
        ok = np.isfinite(forecast).all(axis=1) & np.isfinite(sigma)
        # A trend that explodes is as useless as NaN: treat forecasts beyond 1e9 units as failed.
        ok &= np.abs(forecast).max(axis=1, initial=0) < 1e9
    if n_ok_extra is not None:
        ok &= n_ok_extra
    forecast = np.where(ok[:, None], np.maximum(forecast, 0.0), 0.0)
    sigma = np.where(ok, sigma, 0.0)
    return MethodFit(forecast=forecast, sigma=sigma, alpha=np.asarray(alpha, float), ok=ok)


def pick_best(sse: np.ndarray) -> np.ndarray:
    """Index of the grid point with the smallest in-sample error per row (NaN never wins)."""
    return np.nan_to_num(sse, nan=np.inf, posinf=np.inf).argmin(axis=1)
