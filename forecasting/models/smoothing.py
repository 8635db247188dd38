"""Exponential smoothing kernels (ETS with additive errors) over many series at once.

Parameters are chosen per series from a small grid by in-sample one-step squared error. A grid
instead of an optimiser is what makes the kernels vectorise: all series and all grid points advance
together, one numpy operation per week, so 100,000 series cost about what one costs in a loop.
The recursions match statsmodels' ``ExponentialSmoothing`` with known initial values (a unit test
checks this).
"""

from __future__ import annotations

from collections import deque
from typing import cast

import numpy as np

from forecasting.models.base import MethodFit, finish, pick_best

SES_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.8])
TREND_GRID = [(a, b) for a in (0.1, 0.3, 0.5) for b in (0.02, 0.1)]
DAMPING = (0.8, 0.9, 0.98)
SEASON = 52


def _level_init(y, start):
    rows = np.arange(len(y))
    return y[rows, np.minimum(start, y.shape[1] - 1)].astype(np.float64)


def _ses_steps(y, start, alphas, until):
    """Yield ``(t, level, sse)`` before each column ``t`` = 1 .. ``until`` is smoothed in.

    The state before column ``t`` is what a run on ``y[:, :t]`` ends with (for rows that start
    before ``t``), so one pass serves every origin of a rolling refit. ``sse`` is updated in
    place: copy it to keep it.
    """
    a = np.asarray(alphas, float)[None, :]
    level = np.repeat(_level_init(y, start)[:, None], a.shape[1], axis=1)
    sse = np.zeros_like(level)
    for t in range(1, until + 1):
        yield t, level, sse
        if t == until:
            return
        act = (t > start)[:, None]
        e = y[:, t : t + 1] - level
        sse += np.where(act, e * e, 0.0)
        level = np.where(act, level + a * e, level)


def ses_path(y, start, alphas):
    """Run simple exponential smoothing for every row and every alpha; return level and SSE."""
    _, level, sse = deque(_ses_steps(y, start, alphas, y.shape[1]), maxlen=1)[0]
    return level, sse


def _ses_fit(level, sse, start, T, horizon, alphas) -> MethodFit:
    best = pick_best(sse)
    r = np.arange(len(level))
    count = np.maximum(T - 1 - start, 1)
    fc = np.repeat(level[r, best][:, None], horizon, axis=1)
    return finish(fc, sse[r, best], count, np.asarray(alphas)[best])


def ses(y, start, horizon, *, alphas=SES_ALPHAS) -> MethodFit:
    """Simple exponential smoothing (ETS A,N,N): a flat forecast at the smoothed level."""
    level, sse = ses_path(y, start, alphas)
    return _ses_fit(level, sse, start, y.shape[1], horizon, alphas)


def ses_at(y, start, horizon, origins, *, alphas=SES_ALPHAS) -> list[MethodFit]:
    """``ses(y[:, :o], start, horizon)`` for each origin ``o`` (ascending), in one pass.

    Equal to the separate fits for rows with ``start < o`` (other rows are not meaningful).
    """
    stops = {int(o): j for j, o in enumerate(origins)}
    fits: list[MethodFit | None] = [None] * len(stops)
    for t, level, sse in _ses_steps(y, start, alphas, int(max(origins))):
        if t in stops:
            fits[stops[t]] = _ses_fit(level, sse, start, t, horizon, alphas)
    # The steps pass every origin (the largest is where they stop), so no slot stays None.
    return cast(list[MethodFit], fits)


def _trend_steps(y, start, grid, until):
    """Yield ``(t, level, trend, sse)`` before each column ``t`` = 1 .. ``until`` is smoothed
    in, for every row and grid point ``(alpha, beta, phi)``; as :func:`_ses_steps`, the state
    before column ``t`` is what a run on ``y[:, :t]`` ends with, and ``sse`` is updated in place."""
    al = np.array([g[0] for g in grid])[None, :]
    be = np.array([g[1] for g in grid])[None, :]
    ph = np.array([g[2] for g in grid])[None, :]
    level = np.repeat(_level_init(y, start)[:, None], len(grid), axis=1)
    trend = np.zeros_like(level)
    sse = np.zeros_like(level)
    for t in range(1, until + 1):
        yield t, level, trend, sse
        if t == until:
            return
        with np.errstate(all="ignore"):
            act = (t > start)[:, None]
            prev = level + ph * trend
            e = y[:, t : t + 1] - prev
            sse += np.where(act, e * e, 0.0)
            new_level = prev + al * e
            new_trend = ph * trend + al * be * e
            level = np.where(act, new_level, level)
            trend = np.where(act, new_trend, trend)


def _trend_fit(level, trend, sse, start, T, horizon, grid) -> MethodFit:
    al = np.array([g[0] for g in grid])[None, :]
    ph = np.array([g[2] for g in grid])[None, :]
    with np.errstate(all="ignore"):
        best = pick_best(sse)
        r = np.arange(len(level))
        phi = ph[0, best][:, None]
        steps = np.cumsum(phi ** np.arange(1, horizon + 1)[None, :], axis=1)
        fc = level[r, best][:, None] + steps * trend[r, best][:, None]
    count = np.maximum(T - 1 - start, 1)
    return finish(fc, sse[r, best], count, al[0, best])


def _trend(y, start, horizon, grid):
    """Holt's linear trend with damping phi (phi = 1 is undamped) for every row and grid point."""
    T = y.shape[1]
    _, level, trend, sse = deque(_trend_steps(y, start, grid, T), maxlen=1)[0]
    return _trend_fit(level, trend, sse, start, T, horizon, grid)


def _trend_at(y, start, horizon, origins, grid) -> list[MethodFit]:
    """``_trend(y[:, :o], start, horizon, grid)`` for each origin ``o`` (ascending), in one pass.

    Equal to the separate fits for rows with ``start < o``: the rolling refits of the window
    spread would otherwise run the whole recursion again at each of its 26 origins.
    """
    stops = {int(o): j for j, o in enumerate(origins)}
    fits: list[MethodFit | None] = [None] * len(stops)
    for t, level, trend, sse in _trend_steps(y, start, grid, int(max(origins))):
        if t in stops:
            fits[stops[t]] = _trend_fit(level, trend, sse, start, t, horizon, grid)
    return cast(list[MethodFit], fits)


def holt(y, start, horizon) -> MethodFit:
    """Holt's linear trend (ETS A,A,N)."""
    return _trend(y, start, horizon, [(a, b, 1.0) for a, b in TREND_GRID])


def damped(y, start, horizon) -> MethodFit:
    """Damped additive trend (ETS A,Ad,N), usually the safest trend model for retail."""
    return _trend(y, start, horizon, [(a, b, p) for a, b in TREND_GRID for p in DAMPING])


def holt_at(y, start, horizon, origins) -> list[MethodFit]:
    """``holt(y[:, :o], start, horizon)`` for each origin ``o`` (ascending), in one pass."""
    return _trend_at(y, start, horizon, origins, [(a, b, 1.0) for a, b in TREND_GRID])


def damped_at(y, start, horizon, origins) -> list[MethodFit]:
    """``damped(y[:, :o], start, horizon)`` for each origin ``o`` (ascending), in one pass."""
    return _trend_at(y, start, horizon, origins,
                     [(a, b, p) for a, b in TREND_GRID for p in DAMPING])


def holt_winters(y, start, horizon, *, m=SEASON, grid=((0.1, 0.05), (0.1, 0.2), (0.3, 0.05),
                                                        (0.3, 0.2))) -> MethodFit:
    """Additive seasonal ETS (A,N,A) with period ``m``; needs two full seasons after ``start``.

    The level starts at the mean of the first season and the seasonal indices at the deviations
    from it; rows with fewer than ``2 m`` weeks of history are marked not ok.
    """
    n, T = y.shape
    enough = (T - start) >= 2 * m
    s0 = np.where(enough, start, 0)
    al = np.array([g[0] for g in grid])[None, :]
    ga = np.array([g[1] for g in grid])[None, :]
    idx = s0[:, None] + np.arange(m)[None, :]
    first = np.take_along_axis(y, np.minimum(idx, T - 1), axis=1).astype(np.float64)
    level = np.repeat(first.mean(axis=1)[:, None], len(grid), axis=1)
    season = np.repeat((first - first.mean(axis=1, keepdims=True))[:, None, :], len(grid), axis=1)
    sse = np.zeros_like(level)
    with np.errstate(all="ignore"):
        for t in range(m, T):
            act = (t >= s0 + m)[:, None]
            k = (t - s0) % m
            s = np.take_along_axis(season, k[:, None, None], axis=2)[:, :, 0]
            e = y[:, t : t + 1] - level - s
            sse += np.where(act, e * e, 0.0)
            new_s = np.where(act, s + ga * (1 - al) * e, s)
            level = np.where(act, level + al * e, level)
            np.put_along_axis(season, k[:, None, None], new_s[:, :, None], axis=2)
        best = pick_best(sse)
        r = np.arange(n)
        kh = (T - s0[:, None] + np.arange(horizon)[None, :]) % m
        fc = level[r, best][:, None] + np.take_along_axis(season[r, best], kh, axis=1)
    count = np.maximum(T - s0 - m, 1)
    return finish(fc, sse[r, best], count, al[0, best], n_ok_extra=enough)
