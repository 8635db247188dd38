"""Pooled seasonality: a multiplicative 52-week index per series, for series too short to fit a
seasonal model of their own, estimated in three levels (the panel's total -> category -> series).

A series needs two seasons of history before a seasonal model of its own can be fitted, yet a
product launched in spring still sells more at Christmas if its kind of product does, and a
Christmas decoration that sold ten times its yearly mean last December will again. Each week is
compared with the mean of the nearest full year around it (a moving annual mean over the weeks
since the first sale: no seasonality, follows the trend). Per week of the year, with
:data:`NEIGHBOURS` weeks on each side (the season moves by a few days a year, and one week's big
order is not a season), this gives units sold and units the annual mean expects. The panel's
total and each category's total give the upper levels; a series with a year of its own sales
gives its own. Each level is a ratio of sums shrunk toward the level above with a prior worth
:data:`PRIOR_WEEKS` weeks of its own mean sales plus :data:`PRIOR_UNITS`: a week backed by
little data stays near the index above it, and a category whose own index is not supported by
its data stays near the panel's.
"""

from __future__ import annotations

import numpy as np

from forecasting.classify import first_sale

SEASON = 52
NEIGHBOURS = 3     # weeks either side pooled into each week of the year
PRIOR_WEEKS = 5.0  # the index above is worth this many weeks of a row's own mean sales
PRIOR_UNITS = 10.0  # ... plus this many units: a slow seller's weeks are mostly counting noise
MAX_FACTOR = 5.0   # no week sells more than 5x (or less than 1/5) the annual mean


def season_sums(y, *, start_week: int,
                neighbours: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
    return out[0], out[1], out[2]


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


def category_index(y_cat, *, start_week: int, prior_weeks: float = PRIOR_WEEKS) -> np.ndarray:
    """``(n_cat, 52)`` index per category from its weekly total, shrunk toward the index of the
    panel's total.

    Totals, not each SKU's ratio to its own annual mean: a product's rise and decay after launch
    would read as a season of its own, while a category's stream of launches adds up to its
    real year. Returns all ones where the panel holds less than one full season.
    """
    y_cat = np.asarray(y_cat, np.float64)
    n_cat = y_cat.shape[0]
    total = season_sums(y_cat.sum(axis=0, keepdims=True), start_week=start_week)
    if not (total[1] > 0).any():
        return np.ones((n_cat, SEASON))
    glob = shrink(*total, np.ones((1, SEASON)), prior_weeks=prior_weeks)
    own = season_sums(y_cat, start_week=start_week)
    return shrink(*own, np.repeat(glob, n_cat, axis=0), prior_weeks=prior_weeks)


def series_index(y, prior, *, start_week: int, prior_weeks: float = PRIOR_WEEKS) -> np.ndarray:
    """``(n, 52)`` index per row of ``y``, shrunk toward ``prior`` (its category's index).

    A row's ratio to its own annual mean needs a year of its own sales: before that the mean
    is of a part of its life, and its launch and decay would pass for a season. Rows sold for
    under 52 weeks take ``prior`` as it is.
    """
    own = shrink(*season_sums(y, start_week=start_week), prior, prior_weeks=prior_weeks)
    year = (y.shape[1] - first_sale(y)) >= SEASON
    return np.where(year[:, None], own, prior)


def factors(index, *, start_week: int, n_weeks: int) -> np.ndarray:
    """``(len(index), n_weeks)``: each row's index laid on the weeks from ``start_week``."""
    woy = (start_week + np.arange(n_weeks)) % SEASON
    return index[:, woy]
