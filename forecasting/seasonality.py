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
its data stays near the panel's. A series keeps a level of its own only in a category whose
series' deviations from the category's index come back a year later
(:func:`sku_seasons_repeat`); elsewhere a year of a series' own sales shows noise, or a launch
and its decay, rather than a season.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from forecasting.classify import first_sale
from forecasting.panel import compact_units

SEASON = 52
NEIGHBOURS = 3     # weeks either side pooled into each week of the year
PRIOR_WEEKS = 5.0  # the index above is worth this many weeks of a row's own mean sales
PRIOR_UNITS = 10.0  # ... plus this many units: a slow seller's weeks are mostly counting noise
MAX_FACTOR = 5.0   # no week sells more than 5x (or less than 1/5) the annual mean
MIN_PRIOR_WEEKS, MAX_PRIOR_WEEKS = 0.1, 1000.0  # bounds of a category's prior estimated from data
BLOCK = 8192  # SKUs at a time in sku_season_spread: its (SKUs, weeks) arrays at a million series


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
    level, live = annual_level(y)
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


def annual_level(y) -> tuple[np.ndarray, np.ndarray]:
    """``(level, live)``: the mean of the nearest full year around each week, over the weeks
    since each row's first sale (0 before it), and whether the row has started selling."""
    n, T = y.shape
    live = (np.arange(T)[None, :] >= first_sale(y)[:, None]).astype(np.float64)
    cy = np.concatenate([np.zeros((n, 1)), np.cumsum(y, axis=1)], axis=1)
    cl = np.concatenate([np.zeros((n, 1)), np.cumsum(live, axis=1)], axis=1)
    a = np.clip(np.arange(T) - SEASON // 2, 0, T - SEASON)
    span = cl[:, a + SEASON] - cl[:, a]
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where(span > 0, (cy[:, a + SEASON] - cy[:, a]) / span, 0.0) * live
    return level, live


def prior_weeks_from_data(y, sums, prior) -> np.ndarray:
    """``(n, 1)`` weight of the index above, in weeks of a row's own sales, from its data.

    A week-of-year's ratio of ``n_w`` weeks sold to expected (``n_w`` the weeks of its pool,
    neighbours included) has noise ``s^2 / n_w`` (``s^2``
    the relative variance of one week's sales around its smooth course, Poisson and big
    orders alike) around a true index that differs from the one above by ``tau^2``; the
    best mix weighs its own data by ``n_w / (n_w + s^2 / tau^2)``, i.e. the index above is
    worth ``s^2 / tau^2`` weeks (empirical Bayes). ``s^2`` is read off second differences,
    ``y_t - (y_{t-1} + y_{t+1}) / 2``, which a season (smooth over a few weeks) leaves
    alone and which have variance ``1.5 s^2``; ``tau^2`` is the spread of the row's own ratios
    around the index above less their noise. A category total of many products is nearly
    noise-free and keeps its own season; a wholesale category whose weeks jump with single
    orders leans on the level above.
    """
    s2, enough = week_noise(y)
    sold, expected, weeks = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        have = expected > 0
        ratio = np.where(have, sold / np.where(have, expected, 1.0), 0.0)
        noise = np.where(have, s2[:, None] / np.maximum(weeks, 1e-9), 0.0)
        dev = np.where(have, (ratio - prior) ** 2 - noise, 0.0)
        tau2 = dev.sum(axis=1) / np.maximum(have.sum(axis=1), 1)
        out = np.where((tau2 > 0) & enough, s2 / np.maximum(tau2, 1e-12), np.inf)
    return np.clip(out, MIN_PRIOR_WEEKS, MAX_PRIOR_WEEKS)[:, None]


def week_noise(y, lv=None) -> tuple[np.ndarray, np.ndarray]:
    """``(s2, enough)`` per row: the relative variance of one week's units around its smooth
    course, from second differences ``y_t - (y_{t-1} + y_{t+1}) / 2`` (variance ``1.5 s^2``;
    a season, smooth over a few weeks, leaves them alone) over the annual level, and whether
    the row had any three live weeks to measure it on (``lv``: :func:`annual_level` of ``y``
    if already at hand)."""
    level, live = annual_level(y) if lv is None else lv
    both = (live[:, 2:] * live[:, 1:-1] * live[:, :-2] > 0) & (level[:, 1:-1] > 0)
    d2 = y[:, 1:-1] - (y[:, :-2] + y[:, 2:]) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(both, d2**2 / (1.5 * np.where(both, level[:, 1:-1], 1.0) ** 2), 0.0)
    n = both.sum(axis=1)
    return rel.sum(axis=1) / np.maximum(n, 1), n > 0


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


def category_index(y_cat, *, start_week: int, prior_weeks: float | None = None) -> np.ndarray:
    """``(n_cat, 52)`` index per category from its weekly total, shrunk toward the index of the
    panel's total.

    Totals, not each SKU's ratio to its own annual mean: a product's rise and decay after launch
    would read as a season of its own, while a category's stream of launches adds up to its
    real year. Each level's weight on the one above is estimated from its own data
    (:func:`prior_weeks_from_data`), unless ``prior_weeks`` fixes it. Returns all ones where
    the panel holds less than one full season.
    """
    y_cat = np.asarray(y_cat, np.float64)
    n_cat = y_cat.shape[0]
    y_tot = y_cat.sum(axis=0, keepdims=True)
    total = season_sums(y_tot, start_week=start_week)
    if not (total[1] > 0).any():
        return np.ones((n_cat, SEASON))
    def weeks_of(y, sums, above):
        return prior_weeks_from_data(y, sums, above) if prior_weeks is None else prior_weeks

    flat = np.ones((1, SEASON))
    glob = shrink(*total, flat, prior_weeks=weeks_of(y_tot, total, flat))
    own = season_sums(y_cat, start_week=start_week)
    above = np.repeat(glob, n_cat, axis=0)
    return shrink(*own, above, prior_weeks=weeks_of(y_cat, own, above))


def year_deviations(y, index, *, start_week: int, lv=None):
    """Per row and week of the year, the ratio of units sold to the annual mean's in the last
    52 weeks and in the 52 before, each less ``index`` (``(n, 52)``, the row's category's):
    ``(dev_last, dev_before, pair, (weeks_last, expected_last), (weeks_before,
    expected_before))``, ``pair`` where both exist, ``expected`` the units the annual mean
    expects; ``lv``: :func:`annual_level` of ``y`` if already at hand."""
    t = np.arange(y.shape[1])
    late = t >= len(t) - SEASON
    level, live = annual_level(y) if lv is None else lv
    parts = [[_woy_sums(a * c, start_week) for a in (y * live, level, live)]
             for c in (late, ~late & (t >= len(t) - 2 * SEASON))]
    pair = (parts[0][1] > 0) & (parts[1][1] > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = [np.where(pair, sold / np.where(pair, exp, 1.0) - index, 0.0)
               for sold, exp, _ in parts]
    return dev[0], dev[1], pair, parts[0][2:0:-1], parts[1][2:0:-1]


def _woy_sums(a, start_week: int, neighbours: int = NEIGHBOURS) -> np.ndarray:
    """``(n, 52)``: ``a`` summed per week of the year, with ``neighbours`` either side."""
    n, T = a.shape
    off = start_week % SEASON
    padded = np.zeros((n, off + T + (-(off + T)) % SEASON))
    padded[:, off : off + T] = a
    s = padded.reshape(n, -1, SEASON).sum(axis=1)
    pooled = s.copy()
    for k in range(1, neighbours + 1):
        pooled += np.roll(s, k, axis=1) + np.roll(s, -k, axis=1)
    return pooled


def sku_season_spread(y, cat, index, *, start_week: int,
                      map_rows=None) -> tuple[np.ndarray, np.ndarray]:
    """``(tau2, se)`` per category, ``(n_cat,)`` each: how far its SKUs' own seasons stray
    from the category's ``index`` in the part that comes back a year later, and the standard
    error of that (NaN where no SKU has weeks in two years to tell).

    Per SKU with a year of sales and week of the year (:func:`year_deviations`), the product of
    the two years' deviations has mean ``tau^2``: a SKU's own season repeats, the rest does not
    (counting noise, single orders, a launch's rise and decay, which within one year pass for a
    season). Pooled per category with weights ``1 / ((tau^2 + v_1)(tau^2 + v_2))``, ``v`` each
    ratio's noise (:func:`week_noise` over its weeks), refined three times from 0.05; a negative
    mean gives 0. The standard error treats each SKU as one independent cluster.

    ``map_rows(fn, arrays)`` runs the per-SKU part (:func:`sku_season_terms`, row by row, most
    of the cost) e.g. on the demand step's workers: the same bits however the rows are split.
    """
    y = np.asarray(y, np.float64)
    index = np.asarray(index, np.float64)
    n_cat = len(index)
    tau2, se = np.full(n_cat, np.nan), np.full(n_cat, np.nan)
    if len(y) == 0 or y.shape[1] <= SEASON:
        return tau2, se
    rows = np.flatnonzero((y.shape[1] - first_sale(y)) >= SEASON)
    c = np.asarray(cat)[rows]
    terms = partial(sku_season_terms, index=index, start_week=start_week)
    # The weekly units of SKUs are counts: sent as the narrowest exact integers if they go out.
    arrays = (compact_units(y[rows]), c)
    both = terms(*arrays) if map_rows is None else map_rows(terms, arrays)
    prod, v1, v2 = both[:, 0], both[:, 1], both[:, 2]
    pair = both[:, 3] > 0
    t2 = np.full(n_cat, 0.05)
    for _ in range(3):
        tc = t2[c].astype(np.float32)[:, None]
        w = np.where(pair, 1 / ((tc + v1) * (tc + v2)), np.float32(0))
        ws = w.sum(axis=1, dtype=np.float64)
        wp = (w * prod).sum(axis=1, dtype=np.float64)
        den = np.maximum(np.bincount(c, weights=ws, minlength=n_cat), 1e-300)
        t2 = np.clip(np.bincount(c, weights=wp, minlength=n_cat) / den, 0.0, None)
    per_sku = np.where(ws > 0, wp / np.maximum(ws, 1e-300), 0.0)
    var = np.bincount(c, weights=(ws * (per_sku - t2[c])) ** 2, minlength=n_cat)
    have = np.bincount(c, weights=pair.sum(axis=1), minlength=n_cat) > 0
    tau2[have], se[have] = t2[have], np.sqrt(var[have]) / den[have]
    return tau2, se


def sku_season_terms(y, cat, *, index, start_week: int) -> np.ndarray:
    """``(n, 4, 52)`` float32 per SKU row with a year of sales (``cat``: its category's row of
    ``index``): the product of its two years' deviations from the index, each ratio's noise,
    and 1 where both years have the week (:func:`sku_season_spread`). Row by row."""
    # float32 and one product per SKU-week: a million-series panel's 200,000 SKUs stay small
    out = np.zeros((len(y), 4, SEASON), np.float32)
    for a in range(0, len(y), BLOCK):  # (rows, weeks) temporaries a block at a time
        b = slice(a, a + BLOCK)
        yb = np.asarray(y[b], np.float64)  # the units may come as compact integers
        lv = annual_level(yb)
        d1, d2, pair, *sums = year_deviations(yb, index[cat[b]], start_week=start_week, lv=lv)
        out[b, 0] = d1 * d2
        s2 = week_noise(yb, lv)[0][:, None]
        # a ratio's noise; a series whose weeks never varied gets counting noise, not none
        out[b, 1], out[b, 2] = (np.where(s2 > 0, s2 / np.maximum(w, 1.0),
                                         1.0 / np.maximum(e, 1e-9)) for w, e in sums)
        out[b, 3] = pair
    return out


def sku_seasons_repeat(y, cat, index, *, start_week: int, map_rows=None) -> np.ndarray:
    """``(n_cat,)`` booleans: whether a category's SKUs have seasons of their own, i.e. their
    :func:`sku_season_spread` lies more than two standard errors above zero (also True where
    no SKU has two years to tell, as before this test existed)."""
    tau2, se = sku_season_spread(y, cat, index, start_week=start_week, map_rows=map_rows)
    return np.isnan(tau2) | (tau2 > 2 * se)


def series_index(y, prior, *, start_week: int, prior_weeks: float = PRIOR_WEEKS,
                 own=None) -> np.ndarray:
    """``(n, 52)`` index per row of ``y``, shrunk toward ``prior`` (its category's index).

    A row's ratio to its own annual mean needs a year of its own sales: before that the mean
    is of a part of its life, and its launch and decay would pass for a season. Rows sold for
    under 52 weeks take ``prior`` as it is, and so do rows where ``own`` (``(n,)`` booleans,
    their category's :func:`sku_seasons_repeat`) is False.
    """
    index = shrink(*season_sums(y, start_week=start_week), prior, prior_weeks=prior_weeks)
    year = (y.shape[1] - first_sale(y)) >= SEASON
    if own is not None:
        year &= np.asarray(own, bool)
    return np.where(year[:, None], index, prior)


def factors(index, *, start_week: int, n_weeks: int) -> np.ndarray:
    """``(len(index), n_weeks)``: each row's index laid on the weeks from ``start_week``."""
    woy = (start_week + np.arange(n_weeks)) % SEASON
    return index[:, woy]
