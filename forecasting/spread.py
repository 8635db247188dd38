"""The one demand spread: the model's own rolling-origin errors, per series, shrunk to its group.

Safety stock protects against the error of the forecast *summed over the protection window*
(lead time plus review period), not against one week's error scaled by ``sqrt(L+R)``: a wrong
level is wrong in every week of the window, so the window error grows faster than the square
root. The honest measure is therefore the error the chosen model actually made over windows of
the same length, forecast from many past origins with only the data known at each origin.

Few windows per series make a noisy estimate, so each series' mean squared error is shrunk toward
its group's (category's) pooled error, expressed relative to a scale per series (so fast and slow
movers pool as ratios, not as units)::

    mse_post = (n_eff * mse + m * ratio_group * scale) / (n_eff + m)

with ``n_eff`` the number of non-overlapping windows the errors amount to and ``m`` the
prior's weight, estimated per group from how much the series really differ. The planner takes
the scale from each category's error-versus-level law (:func:`level_variance`,
:func:`spread_at_level`): the errors lie half a year back, at another season's level, and are
carried to the level forecast now. Selection uses the
same function for its one-week spread (the one-step errors are the model's own one-week-ahead
errors), so intervals and safety stock speak about the same uncertainty.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from forecasting.classify import first_sale
from forecasting.models import FALLBACK, METHODS
from forecasting.models.baselines import moving_average_at
from forecasting.models.intermittent import croston_at, sba_at, tsb_at
from forecasting.models.smoothing import damped_at, holt_at, ses_at

SPREAD_STRENGTH = 4.0
"""Pseudo-errors of a group's prior when its spread between series cannot be estimated."""

# Methods without a vectorised kernel are replayed with the nearest kernel.
KERNEL_OF = {"ets_statsmodels": "ets_seasonal"}
# Kernels that refit every rolling origin in one pass (same numbers as one fit per origin).
ONE_PASS = {"ses": ses_at, "croston": croston_at, "sba": sba_at,
            "moving_average": moving_average_at, "holt": holt_at, "damped": damped_at,
            "tsb": tsb_at}


def window_spread(mse, n_errors, scale, *, group=None, n_groups=1, strength=None) -> np.ndarray:
    """Standard deviation per series of its forecast error, shrunk toward its group.

    Args:
        mse: ``(n,)`` mean squared error of the series' own forecasts (NaN where none).
        n_errors: ``(n,)`` how many independent errors ``mse`` stands for (0 = none).
        scale: ``(n,)`` a positive size of the series' error variance (e.g. weeks times its
            one-week variance); the group's prior is its pooled ``mse / scale`` ratio times it.
        group: ``(n,)`` group label per series (default: one group).
        n_groups: number of groups.
        strength: pseudo-errors of the group prior; default estimated per group (see below).

    A mean of ``n`` squared normal errors has relative sampling variance ``2 / n``; what the
    ratios ``mse / (ratio_group * scale)`` spread beyond that is real difference between series,
    ``tau^2``. The prior is then worth ``2 / tau^2`` errors (empirical Bayes, method of moments):
    identical series pool completely, different ones keep their own spread. A noisy spread per
    series would cost service (the quantile of a noisy sigma falls short on average).

    Returns:
        ``(n,)`` standard deviations, never negative; a series without errors gets its group's.
    """
    mse = np.asarray(mse, float)
    n = np.asarray(n_errors, float)
    scale = np.maximum(np.asarray(scale, float), 0.0)
    group = np.zeros(len(mse), np.int64) if group is None else np.asarray(group, np.int64)
    use = (n > 0) & np.isfinite(mse) & (scale > 0)
    n_use = np.where(use, n, 0.0)
    w_mse = n_use * np.nan_to_num(mse)
    num = np.bincount(group, weights=w_mse, minlength=n_groups)
    den = np.bincount(group, weights=n_use * scale, minlength=n_groups)
    glob = num.sum() / den.sum() if den.sum() > 0 else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(den > 0, num / np.where(den > 0, den, 1), glob)
    prior = ratio[group] * scale
    if strength is None:
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.where(use, np.nan_to_num(mse) / np.where(prior > 0, prior, 1) - 1, 0.0)
            excess = rel**2 - np.where(use, 2 / np.where(use, n, 1), 0.0)
            cnt = np.bincount(group, weights=use.astype(float), minlength=n_groups)
            tau2 = np.bincount(group, weights=np.where(use, excess, 0), minlength=n_groups)
            tau2 = np.where(cnt > 1, tau2 / np.maximum(cnt, 1), np.nan)
            m = np.clip(np.nan_to_num(2 / np.maximum(tau2, 1e-6), nan=SPREAD_STRENGTH),
                        1.0, 1e4)
        strength = m[group]
    with np.errstate(invalid="ignore", divide="ignore"):
        post = np.where(n_use + strength > 0, (w_mse + strength * prior) / (n_use + strength),
                        prior)
    return np.sqrt(np.maximum(post, 0.0))


def rolling_forecasts(y, start, method, kmax: int, *, n_origins: int = 13,
                      min_train: int = 8, end: int | None = None):
    """Forecasts of the next ``kmax`` weeks from each of the last ``n_origins`` origins.

    Each origin ``o`` refits the series' own method (``method``: name per row) on ``y[:, :o]``
    only. Origins are the latest whose ``kmax``-week window ends by column ``end`` (default:
    the end of the history). Give ``end`` = the start of the holdout the method was chosen on:
    errors inside it flatter the winner (it won there partly by luck), errors before it do not.

    Returns:
        ``(forecast, origins)``: ``(n, n_origins, kmax)`` forecasts (NaN where the series had
        fewer than ``min_train`` weeks of life before the origin) and the origin columns.
    """
    y = np.asarray(y, float)
    n, T = y.shape
    start = np.asarray(start, np.int64)
    method = np.asarray(method, dtype=object)
    last = (T if end is None else min(int(end), T)) - kmax
    origins = [o for o in range(last - n_origins + 1, last + 1) if o > 0]
    out = np.full((n, len(origins), kmax), np.nan)
    errors: Counter = Counter()
    for name in np.unique(method.astype(str)):
        rows = np.flatnonzero(method.astype(str) == name)
        kernel = KERNEL_OF.get(name, name)
        ahead = _one_pass(kernel, y, start, rows, origins, kmax, min_train)
        for j, o in enumerate(origins):
            ok_rows = rows[o - start[rows] >= min_train]
            if name == "zero":
                out[ok_rows, j] = 0.0
                continue
            todo, k = ok_rows, kernel
            if ahead is not None:  # the first link of the chain, already fitted in one pass
                cand, fits = ahead
                fit = fits[j]
                at = np.searchsorted(cand, ok_rows)
                ok = fit.ok[at]
                out[todo[ok], j] = fit.forecast[at[ok]]
                todo, k = todo[~ok], FALLBACK.get(k)
            while k is not None and todo.size:  # walk the fallback chain as the final fit does
                try:
                    fit = METHODS[k](y[todo, :o], start[todo], kmax)
                    ok = fit.ok
                except Exception:  # noqa: BLE001 - one odd kernel must not abort the spread
                    errors[k] += todo.size
                    ok = np.zeros(todo.size, bool)
                    fit = None
                if fit is not None:
                    out[todo[ok], j] = fit.forecast[ok]
                todo, k = todo[~ok], FALLBACK.get(k)
    return out, np.asarray(origins, np.int64)


def _one_pass(kernel, y, start, rows, origins, kmax, min_train):
    """``(rows fitted, fits per origin)`` where the kernel can refit every origin in one pass
    (its state before column ``o`` is its fit on ``y[:, :o]``), else None.

    Recursive kernels would otherwise rerun the same weeks at every origin.
    """
    at = ONE_PASS.get(kernel)
    if at is None or not len(origins):
        return None
    cand = rows[int(origins[-1]) - start[rows] >= min_train]  # every row fitted at any origin
    try:
        return cand, at(y[cand, : int(origins[-1])], start[cand], kmax, origins)
    except Exception:  # noqa: BLE001 - the origin-by-origin path fits again and counts it
        return None


@dataclass(frozen=True)
class WindowOrigins:
    """Where the rolling origins of the window spread lie, fixed for the whole panel so that
    every chunk of SKUs, in any process, refits them at the same origins.

    Attributes:
        kmax: the longest window (L+R weeks) of any series in the panel.
        n_origins: how many origins.
        end: the column every window must end by (the start of the selection holdout).
    """

    kmax: int
    n_origins: int
    end: int


# Rows whose window errors are worked out at a time: their SKUs' rolling forecasts, repeated
# per row, are (rows, origins, kmax) floats, a few tens of MiB.
SPREAD_BLOCK = 16_384


def size_window_errors(y, y_sku, sku, method, share, weeks, at: WindowOrigins):
    """``(errors, forecast sums)``, each ``(n, origins)``: every size's window errors.

    Each SKU's own method (``method``: name per SKU) is refitted at the rolling origins on
    the SKU total ``y_sku``; a size's window forecast is the SKU's times its ``share``, so its
    errors against its own history ``y`` carry both the SKU's error and the noise of the split.
    Every row's figures are its own and its SKU's, so a chunk of whole SKUs gives the same bits
    as the whole panel: the chunks the demand step runs (in any process) measure them.
    """
    fc, origins = rolling_forecasts(y_sku, first_sale(y_sku), method, at.kmax,
                                    n_origins=at.n_origins, end=at.end)
    n = len(y)
    err = np.empty((n, len(origins)))
    fsum = np.empty((n, len(origins)))
    for a in range(0, n, SPREAD_BLOCK):
        rows = slice(a, a + SPREAD_BLOCK)
        fsum[rows] = window_sums(fc[sku[rows]], weeks[rows]) * share[rows, None]
        err[rows] = window_errors(fsum[rows], origins, y[rows], weeks[rows])
    return err, fsum


def window_errors(forecast_sum, origins, actual, weeks):
    """Forecast sum minus actual sum over each series' window, per origin.

    Args:
        forecast_sum: ``(n, n_origins)`` forecast of the ``weeks[i]``-week sum from each origin
            (NaN where there was none), e.g. a SKU's rolling forecast times the size's share.
        origins: origin columns of ``actual``.
        actual: ``(n, T)`` the series' own history (only the columns from the first origin on
            are read, so a tail of a long history is enough if ``origins`` index into it).
        weeks: ``(n,)`` window length per series.

    Returns:
        ``(n, n_origins)`` errors.
    """
    actual = np.asarray(actual)
    n = len(actual)
    k = np.maximum(np.asarray(weeks, np.int64), 1)
    o0 = int(origins[0]) if len(origins) else 0
    tail = np.asarray(actual[:, o0:], float)  # only the columns read, widened
    c = np.concatenate([np.zeros((n, 1)), np.cumsum(tail, axis=1)], axis=1)
    rel = np.asarray(origins, np.int64) - o0
    end = np.minimum(rel[None, :] + k[:, None], c.shape[1] - 1)
    a = c[np.arange(n)[:, None], end] - c[:, rel]
    return np.asarray(forecast_sum, float) - a


def window_sums(forecast, weeks):
    """``(n, n_origins)`` sum of the first ``weeks[i]`` forecast weeks of row ``i``."""
    n, m, kmax = forecast.shape
    k = np.clip(np.asarray(weeks, np.int64), 1, kmax) - 1
    csum = np.cumsum(forecast, axis=2)
    return np.take_along_axis(csum, np.broadcast_to(k[:, None, None], (n, m, 1)), axis=2)[:, :, 0]


def spread_from_errors(err, weeks, scale, *, group=None, n_groups=1, strength=None) -> np.ndarray:
    """:func:`window_spread` of rolling window errors (``(n, n_origins)``, NaN = none).

    Consecutive origins share all but one week of their windows, so ``m`` errors over ``k``-week
    windows carry about ``(m + k - 1) / k`` independent windows' worth of information.
    """
    err = np.asarray(err, float)
    cnt = np.isfinite(err).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = np.where(cnt > 0, np.nansum(err**2, axis=1) / np.maximum(cnt, 1), np.nan)
    k = np.maximum(np.asarray(weeks, float), 1)
    n_eff = np.where(cnt > 0, (cnt + k - 1) / k, 0.0)
    return window_spread(mse, n_eff, scale, group=group, n_groups=n_groups, strength=strength)


REL_CAP = 25.0
"""Cap of a squared window error relative to the variance the level law gives it."""
LEVEL_MIN_ERRORS = 40
LEVEL_MAX_ERRORS = 2_000_000
"""At most about this many errors (every k-th) are read for the law."""
"""Window errors a category needs before its own error-versus-level law replaces the panel's."""


def level_variance(err, forecast_sum, group, n_groups) -> np.ndarray | None:
    """``(n_groups, 2)``: ``(a, b)`` of ``E[error^2] = a F + b F^2`` per group, ``F`` the
    window forecast the error was made on; None where even the whole panel cannot tell.

    Count demand's variance grows with its mean as ``a m + b m^2`` (Poisson, ``a = 1``, plus a
    multiplier's spread, gamma-Poisson / negative binomial), and a forecast's error of the level
    is proportional to the level too. The law is read off the errors themselves: origins are
    binned by ``F`` (octiles), and the bins' mean squared errors fitted by non-negative least
    squares, relative to each bin's mean (so small windows count as much as large ones).
    """
    err = np.asarray(err, float)
    f = np.asarray(forecast_sum, float)
    ok = np.isfinite(err) & np.isfinite(f) & (f > 0)
    # Octile bin means need no more than a few million errors: every k-th one beyond that
    # (a million series x 26 origins would hold several (n, origins) copies at once).
    idx = np.flatnonzero(ok)
    if idx.size > LEVEL_MAX_ERRORS:
        ok = np.zeros(ok.shape, bool)
        ok.ravel()[idx[:: -(-idx.size // LEVEL_MAX_ERRORS)]] = True
    glob = _fit_level_law(f[ok], err[ok] ** 2)
    if glob is None:
        return None
    out = np.tile(glob, (n_groups, 1))
    # The rows in group order (a sort of n rows, not of every error): each group's errors
    # are then a slice, in the panel's order within the group.
    group = np.asarray(group, np.int64)
    rows = np.argsort(group, kind="stable")
    ok = ok[rows]
    f, e2 = f[rows][ok], err[rows][ok] ** 2
    bounds = np.r_[0, np.cumsum(np.bincount(group[rows], ok.sum(axis=1), n_groups))]
    bounds = bounds.astype(np.int64)
    for k in range(n_groups):
        own = _fit_level_law(f[bounds[k] : bounds[k + 1]], e2[bounds[k] : bounds[k + 1]])
        if own is not None:
            out[k] = own
    return out


def _fit_level_law(f, e2):
    """``(a, b)`` of ``e2 ~ a f + b f^2`` from octile bins of ``f`` (None when too few)."""
    if f.size < LEVEL_MIN_ERRORS:
        return None
    edges = np.unique(np.quantile(f, np.linspace(0, 1, 9)))
    b = np.clip(np.searchsorted(edges, f, side="right") - 1, 0, max(len(edges) - 2, 0))
    cnt = np.bincount(b)
    m = cnt > 0
    f1 = np.bincount(b, f)[m] / cnt[m]
    f2 = np.bincount(b, f * f)[m] / cnt[m]
    e = np.bincount(b, e2)[m] / cnt[m]
    w = np.sqrt(cnt[m]) / np.maximum(e, 1e-9)
    coef, _ = optimize.nnls(np.stack([f1, f2], axis=1) * w[:, None], e * w)
    return coef if coef.sum() > 0 else None


def spread_at_level(err, forecast_sum, weeks, level_now, law, *, group=None,
                    n_groups=1) -> np.ndarray:
    """Spread over each series' window now, from errors made at other levels.

    Each window error is divided by the variance the law (:func:`level_variance`, one row per
    series) gives its own forecast ``F_o``; the series' mean of these relative squared errors is
    shrunk toward its group (:func:`window_spread`) and scaled back by the law at the window
    forecast now, ``level_now``. Errors measured half a year back in a category's peak then do
    not set the safety stock of its trough (nor the trough's those of the next peak).
    """
    err = np.asarray(err, float)
    f = np.asarray(forecast_sum, float)
    law = np.asarray(law, float)
    mse, cnt = np.empty(len(err)), np.empty(len(err), np.int64)
    for a in range(0, len(err), BLOCK_ROWS):  # row-wise, a block at a time: bounded temporaries
        rows = slice(a, a + BLOCK_ROWS)
        mse[rows], cnt[rows] = _relative_mse(err[rows], f[rows], law[rows])
    k = np.maximum(np.asarray(weeks, float), 1)
    n_eff = np.where(cnt > 0, (cnt + k - 1) / k, 0.0)
    post = window_spread(mse, n_eff, np.ones(len(mse)), group=group, n_groups=n_groups) ** 2
    now = np.maximum(np.asarray(level_now, float), 0.0)
    return np.sqrt(post * (law[:, 0] * now + law[:, 1] * now**2))


BLOCK_ROWS = 65_536


def _relative_mse(err, f, law):
    """Per row: mean of the squared errors relative to the law at their own forecast, and how
    many there were."""
    # A window forecast of a fraction of a unit still risks a whole unit's error (a launch's
    # first weeks): relative to less, one such error would set the series' spread for good.
    f = np.maximum(f, 1.0)
    v = law[:, :1] * f + law[:, 1:] * f**2
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(v > 1e-9, err**2 / np.where(v > 1e-9, v, 1.0), np.nan)
        # Past the law's 5 standard deviations an error is a model's miss of a turn (a trend
        # model lagging a season's ramp out of its trough), not the spread of this level.
        rel = np.minimum(rel, REL_CAP)
        cnt = np.isfinite(rel).sum(axis=1)
        mse = np.where(cnt > 0, np.nansum(rel, axis=1) / np.maximum(cnt, 1), np.nan)
    return mse, cnt
