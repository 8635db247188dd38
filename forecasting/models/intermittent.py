"""Croston, SBA and TSB kernels for intermittent demand, vectorised across series.

Croston smooths the non-zero demand sizes and the intervals between them separately; SBA
(Syntetos-Boylan approximation) removes Croston's known upward bias with the factor (1 - alpha/2);
TSB (Teunter-Syntetos-Babai) smooths the probability of a sale every week, so a series that has
stopped selling decays toward zero instead of holding its last rate forever.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from forecasting.models.base import MethodFit, finish, pick_best

CROSTON_ALPHAS = np.array([0.05, 0.1, 0.2, 0.3])
TSB_GRID = [(a, b) for a in (0.1, 0.3) for b in (0.02, 0.05, 0.1, 0.2)]


def _croston(y, start, horizon, alphas, debias, origins=None):
    """Croston (or SBA) fitted on ``y``, or on ``y[:, :o]`` for each ``o`` of ``origins``.

    With ``origins`` (ascending) one pass records the state before each origin's column: what
    a run on ``y[:, :o]`` ends with for rows that start before ``o``, so a rolling refit costs
    one fit instead of one per origin. Returns a list of fits then.
    """
    n, T = y.shape
    a = np.asarray(alphas, float)[None, :]
    r = np.arange(n)
    z = np.repeat(y[r, np.minimum(start, T - 1)].astype(np.float64)[:, None], a.shape[1], axis=1)
    p = np.ones_like(z)
    q = np.ones_like(z)  # weeks since the last sale
    sse = np.zeros_like(z)
    factor = (1 - a / 2) if debias else 1.0

    def fit(upto):
        best = pick_best(sse)
        rate = (factor * z / p)[r, best] if debias else (z / p)[r, best]
        fc = np.repeat(rate[:, None], horizon, axis=1)
        return finish(fc, sse[r, best], np.maximum(upto - 1 - start, 1),
                      np.asarray(alphas)[best])

    stops = {T: 0} if origins is None else {int(o): j for j, o in enumerate(origins)}
    fits = [None] * len(stops)
    until = max(stops)
    for t in range(1, until + 1):
        if t in stops:
            fits[stops[t]] = fit(t)
        if t == until:
            break
        act = (t > start)[:, None]
        yt = y[:, t : t + 1]
        e = yt - factor * z / p
        sse += np.where(act, e * e, 0.0)
        sale = act & (yt > 0)
        z = np.where(sale, z + a * (yt - z), z)
        p = np.where(sale, p + a * (q - p), p)
        q = np.where(sale, 1.0, np.where(act, q + 1.0, q))
    return fits if origins is not None else fits[0]


def croston(y, start, horizon) -> MethodFit:
    """Croston's method: smoothed demand size / smoothed interval."""
    return _croston(y, start, horizon, CROSTON_ALPHAS, debias=False)


def sba(y, start, horizon) -> MethodFit:
    """Syntetos-Boylan approximation: Croston times (1 - alpha/2)."""
    return _croston(y, start, horizon, CROSTON_ALPHAS, debias=True)


def croston_at(y, start, horizon, origins) -> list[MethodFit]:
    """``croston(y[:, :o], start, horizon)`` for each origin ``o`` (ascending), in one pass."""
    return _croston(y, start, horizon, CROSTON_ALPHAS, debias=False, origins=origins)


def sba_at(y, start, horizon, origins) -> list[MethodFit]:
    """``sba(y[:, :o], start, horizon)`` for each origin ``o`` (ascending), in one pass."""
    return _croston(y, start, horizon, CROSTON_ALPHAS, debias=True, origins=origins)


def tsb(y, start, horizon, *, grid=TSB_GRID) -> MethodFit:
    """TSB: smoothed probability of a sale times smoothed size of a sale."""
    return tsb_at(y, start, horizon, [y.shape[1]], grid=grid)[0]


def tsb_at(y, start, horizon, origins, *, grid=TSB_GRID) -> list[MethodFit]:
    """``tsb(y[:, :o], start, horizon)`` for each origin ``o`` (ascending), in one pass.

    Equal to the separate fits for rows with ``start < o`` (the state before column ``o`` is
    what a run on ``y[:, :o]`` ends with).
    """
    n = len(y)
    a = np.array([g[0] for g in grid])[None, :]
    b = np.array([g[1] for g in grid])[None, :]
    r = np.arange(n)
    stops = {int(o): j for j, o in enumerate(origins)}
    fits: list[MethodFit | None] = [None] * len(stops)
    until = int(max(origins))
    z = np.repeat(y[r, np.minimum(start, until - 1)].astype(np.float64)[:, None], len(grid),
                  axis=1)
    pr = np.ones_like(z)
    sse = np.zeros_like(z)
    for t in range(1, until + 1):
        if t in stops:
            best = pick_best(sse)
            fc = np.repeat((pr * z)[r, best][:, None], horizon, axis=1)
            fits[stops[t]] = finish(fc, sse[r, best], np.maximum(t - 1 - start, 1), b[0, best])
        if t == until:
            break
        act = (t > start)[:, None]
        yt = y[:, t : t + 1]
        e = yt - pr * z
        sse += np.where(act, e * e, 0.0)
        sale = yt > 0
        pr = np.where(act, pr + b * (sale - pr), pr)
        z = np.where(act & sale, z + a * (yt - z), z)
    return cast(list[MethodFit], fits)


def adida(y, start, horizon, *, alphas=CROSTON_ALPHAS) -> MethodFit:
    """ADIDA (Nikolopoulos et al. 2011): SES on non-overlapping buckets of the mean interval
    between sales, counted back from the last week, spread evenly over the bucket's weeks.

    Summing over the typical gap removes most zeros, so the smoothing sees a steadier series;
    rows are grouped by bucket length and each group runs the SES recursion at once.
    """
    from forecasting.models.smoothing import ses_path

    n, T = y.shape
    yf = y.astype(np.float64)
    live = np.arange(T)[None, :] >= start[:, None]
    sales = ((yf > 0) & live).sum(axis=1)
    adi = np.maximum(T - start, 1) / np.maximum(sales, 1)
    k_all = np.clip(np.rint(adi), 1, 13).astype(int)
    fc = np.zeros((n, horizon))
    sse = np.zeros(n)
    cnt = np.ones(n)
    alpha = np.full(n, float(alphas[0]))
    for k in np.unique(k_all):
        rows = np.flatnonzero(k_all == k)
        m = T // k
        if m < 2:
            fc[rows] = yf[rows].mean(axis=1, keepdims=True)
            continue
        agg = yf[rows, T - m * k :].reshape(rows.size, m, k).sum(axis=2)
        st = np.maximum(start[rows] - (T - m * k), 0) // k
        level, s = ses_path(agg, st, alphas)
        best = pick_best(s)
        r = np.arange(rows.size)
        fc[rows] = (level[r, best] / k)[:, None]
        sse[rows] = s[r, best] / (k * k)
        cnt[rows] = np.maximum(m - 1 - st, 1)
        alpha[rows] = np.asarray(alphas)[best]
    return finish(fc, sse, cnt, alpha)
