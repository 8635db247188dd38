"""Baselines every method must beat: seasonal naive and a moving average."""

from __future__ import annotations

import numpy as np

from forecasting.models.base import MethodFit, finish, pick_best

SEASON = 52
MA_WINDOWS = (4, 8, 13)


def seasonal_naive(y, start, horizon, *, m=SEASON) -> MethodFit:
    """Same week last year; needs one full season of history after ``start``."""
    n, T = y.shape
    enough = (T - start) >= m
    kh = T - m + (np.arange(horizon) % m)
    fc = y[:, kh].astype(np.float64)
    e = (y[:, m:] - y[:, :-m]).astype(np.float64) if m < T else np.zeros((n, 0))
    act = (np.arange(m, T)[None, :] >= (start + m)[:, None])
    sse = np.where(act, e * e, 0.0).sum(axis=1)
    return finish(fc, sse, act.sum(axis=1), np.ones(n), n_ok_extra=enough)


def moving_average(y, start, horizon, *, windows=MA_WINDOWS) -> MethodFit:
    """Mean of the last k weeks, k chosen per series from ``windows`` by one-step error.

    The window never reaches back before ``start``, so a new product is averaged over its own
    life only.
    """
    return moving_average_at(y, start, horizon, [y.shape[1]], windows=windows)[0]


def moving_average_at(y, start, horizon, origins, *, windows=MA_WINDOWS) -> list[MethodFit]:
    """``moving_average(y[:, :o], start, horizon)`` for each origin ``o``, from one pass.

    A week's one-step error uses only the weeks before it, so the errors are computed once over
    the history and each origin sums its own prefix (equal to the separate fits for rows with
    ``start < o``).
    """
    n, T = y.shape
    yf = y.astype(np.float64)
    c = np.concatenate([np.zeros((n, 1)), np.cumsum(yf, axis=1)], axis=1)
    t = np.arange(T)[None, :]
    act = (t > start[:, None])
    e2 = []
    for k in windows:
        lo = np.maximum(t - k, start[:, None])  # window [lo, t) predicts week t
        width = t - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            pred = (np.take_along_axis(c, t.repeat(n, 0), 1)
                    - np.take_along_axis(c, lo, 1)) / np.maximum(width, 1)
        e = yf - pred
        e2.append(np.where(act, e * e, 0.0))
    r = np.arange(n)
    fits = []
    for o in origins:
        o = int(o)
        sse = np.zeros((n, len(windows)))
        last = np.zeros((n, len(windows)))
        for j, k in enumerate(windows):
            sse[:, j] = e2[j][:, :o].sum(axis=1)
            lo_end = np.maximum(o - k, np.minimum(start, o - 1))
            last[:, j] = (c[:, o] - c[r, lo_end]) / np.maximum(o - lo_end, 1)
        best = pick_best(sse)
        fc = np.repeat(last[r, best][:, None], horizon, axis=1)
        kb = np.asarray(windows, float)[best]
        fits.append(finish(fc, sse[r, best], np.maximum(o - 1 - start, 1), 2.0 / (kb + 1)))
    return fits
