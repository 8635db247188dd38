"""Pooled seasonality: a multiplicative 52-week index per series, for series too short to fit a
seasonal model of their own, estimated hierarchically (all series -> category -> series).

A series needs two seasons of history before a seasonal model of its own can be fitted, yet a
product launched in spring still sells more at Christmas if its kind of product does, and a
Christmas decoration that sold ten times its yearly mean last December will again. Each week of
a series is compared with the mean of the nearest full year around it (a moving annual mean over
the weeks since its first sale: no seasonality, follows the trend, and the weeks before a launch
are not read as weeks without demand). Per week of the year, with :data:`NEIGHBOURS` weeks on
each side (the season moves by a few days a year, and one week's big order is not a season),
this gives units sold and units expected from the level. Summed over all series and over a
category's they give the global and category indices; every level is a ratio of sums, so big
sellers weigh by their units, and is shrunk toward the level above with a prior worth
:data:`PRIOR_WEEKS` weeks of its own mean sales: a week backed by little data stays near the
index above it, and a category whose own index is not supported by its data stays near the
global one.
"""

from __future__ import annotations

import numpy as np

from forecasting.classify import first_sale

SEASON = 52
NEIGHBOURS = 3     # weeks either side pooled into each week of the year
PRIOR_WEEKS = 5.0  # the index above is worth this many weeks of a row's own mean sales
PRIOR_UNITS = 10.0  # ... plus this many units: a slow seller's weeks are mostly counting noise
MAX_FACTOR = 5.0   # no week sells more than 5x (or less than 1/5) the annual mean


def season_sums(y, *, start_week: int, neighbours: int = NEIGHBOURS):
    """Units sold and units the moving annual mean expects, per row and week of the year.

    Args:
        y: ``(n, T)`` weekly units.
        start_week: week number of column 0 (fixes which week of the year each column is).

    Returns:
        ``sold, expected, weeks`` ``(n, 52)``: each week of the year summed with its
        ``neighbours`` either side, over the weeks since each row's first sale only (``weeks``
        counts them); all zeros under one full season.
    """
    y = np.asarray(y, np.float64)
    n, T = y.shape
    sold, expected, weeks = (np.zeros((n, SEASON)) for _ in range(3))
    if T < SEASON or n == 0:
        return sold, expected, weeks
    live = (np.arange(T)[None, :] >= first_sale(y)[:, None]).astype(np.float64)
    cy = np.concatenate([np.zeros((n, 1)), np.cumsum(y, axis=1)], axis=1)
    cl = np.concatenate([np.zeros((n, 1)), np.cumsum(live, axis=1)], axis=1)
    a = np.clip(np.arange(T) - SEASON // 2, 0, T - SEASON)
    span = cl[:, a + SEASON] - cl[:, a]
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(span > 0, (cy[:, a + SEASON] - cy[:, a]) / span, 0.0) * live
    woy = (start_week + np.arange(T)) % SEASON
    for w in range(SEASON):
        cols = woy == w
        sold[:, w] = y[:, cols].sum(axis=1)
        expected[:, w] = level[:, cols].sum(axis=1)
        weeks[:, w] = live[:, cols].sum(axis=1)
    out = []
    for s in (sold, expected, weeks):
        pooled = s.copy()
        for k in range(1, neighbours + 1):
            pooled += np.roll(s, k, axis=1) + np.roll(s, -k, axis=1)
        out.append(pooled)
    return tuple(out)


def shrink(sold, expected, weeks, prior, *, prior_weeks: float = PRIOR_WEEKS,
           prior_units: float = PRIOR_UNITS) -> np.ndarray:
    """``(sold + k * prior) / (expected + k)`` per row, ``k`` = ``prior_weeks`` times the row's
    mean weekly level (``expected`` over ``weeks``) plus ``prior_units``: lumpy sales are noisy
    in proportion to their size (weeks), slow ones by counting noise (units). Normalised to a
    mean of 1 and clipped to ``[1/MAX_FACTOR, MAX_FACTOR]``."""
    k = prior_weeks * expected.sum(axis=1, keepdims=True) / np.maximum(
        weeks.sum(axis=1, keepdims=True), 1) + prior_units
    index = (sold + k * prior) / (expected + k)
    index = index / index.mean(axis=1, keepdims=True)
    return np.clip(index, 1 / MAX_FACTOR, MAX_FACTOR)


def category_index(sold, expected, weeks, cat, n_cat: int, *,
                   prior_weeks: float = PRIOR_WEEKS) -> np.ndarray:
    """``(n_cat, 52)`` index per category, shrunk toward the index of all series.

    Args:
        sold, expected, weeks: ``(n, 52)`` from :func:`season_sums`, one row per series.
        cat: ``(n,)`` category code per row.

    Returns all ones where the panel holds less than one full season.
    """
    gs, ge = sold.sum(axis=0, keepdims=True), expected.sum(axis=0, keepdims=True)
    if not (ge > 0).any():
        return np.ones((n_cat, SEASON))
    # A group's level is that of its series together: its weeks are calendar weeks, which the
    # longest-lived series covers.
    glob = shrink(gs, ge, weeks.max(axis=0, keepdims=True), np.ones((1, SEASON)),
                  prior_weeks=prior_weeks)
    cs, ce, cw = (np.zeros((n_cat, SEASON)) for _ in range(3))
    np.add.at(cs, cat, sold)
    np.add.at(ce, cat, expected)
    np.maximum.at(cw, cat, weeks)
    return shrink(cs, ce, cw, np.repeat(glob, n_cat, axis=0), prior_weeks=prior_weeks)


def series_index(y, prior, *, start_week: int, prior_weeks: float = PRIOR_WEEKS) -> np.ndarray:
    """``(n, 52)`` index per row of ``y``, shrunk toward ``prior`` (its category's index)."""
    return shrink(*season_sums(y, start_week=start_week), prior, prior_weeks=prior_weeks)


def factors(index, *, start_week: int, n_weeks: int) -> np.ndarray:
    """``(len(index), n_weeks)``: each row's index laid on the weeks from ``start_week``."""
    woy = (start_week + np.arange(n_weeks)) % SEASON
    return index[:, woy]
