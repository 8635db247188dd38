"""Demand per SKU x size: forecast the SKU, split by the size curve, let strong sizes compete.

Sizes are sparse (a SKU selling 10 a week may sell 0-3 of a size), so the model is chosen and
fitted on the SKU total where the signal is, then split by the kept-unit size curve. A size with a
steady history of its own also gets its own model; it keeps it only where it beats the split on the
same holdout. Finally sizes are scaled to add up to the SKU forecast week by week.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from forecasting.classify import ERRATIC, SMOOTH, classify, first_sale
from forecasting.models import statsmodels_ets
from forecasting.seasonality import SEASON, factors, series_index
from forecasting.selection import METHOD_NAMES, N_PARAMS, select
from forecasting.sizes import gross_shares, kept_shares, reconcile
from forecasting.spread import WindowOrigins, size_window_errors

LEVELS = ("sku_split", "own_model", "category_curve")


@dataclass(frozen=True)
class DemandOptions:
    """Options of the demand step (all keyword-only at the public entry points).

    Attributes:
        horizon: weeks forecast after the last observed week.
        holdout_weeks, n_origins: rolling-origin holdout used to choose models.
        size_curve_strength: pseudo-units pulling a SKU's size curve toward its category's.
        own_model_min_rate: mean weekly units (last 52 weeks) a size needs to try its own model.
        new_weeks: a size or SKU first sold within this many weeks uses the category curve.
        statsmodels_max_series: how many of the largest SKUs with two seasons of history may try
            statsmodels ETS in the whole run (a work budget, so results never depend on time).
        statsmodels_min_units: units a SKU must have sold to try it; the planner sets it for
            the whole panel so that every chunk picks the same SKUs (0 = the largest per chunk).
        complexity_penalty, combine: see :func:`forecasting.selection.select`.
        pooled_seasonality: SKUs with under two seasons of history are deseasonalised with
            an index of their own (once they have a year of sales) shrunk toward their
            category's (:mod:`forecasting.seasonality`) before selection.
        lifecycle, lifecycle_weeks: SKUs launched less than ``lifecycle_weeks`` ago are forecast
            from their category's post-launch profile (:mod:`forecasting.lifecycle`).
        lifecycle_season: learn each category's profile on sales divided by its seasonal index
            to the power its own earlier launches backtest best with (0 to 1), and multiply the
            forecast back (:func:`forecasting.lifecycle_season.choose_power`). Off by default: on
            Online Retail's new products it ran 11.7 % low (docs/forecasting.md).
        seasonal_index, start_week: the ``(n_categories, 52)`` category indices and the week
            number of column 0; the planner fills them in from the whole panel, so every chunk
            shrinks its SKUs toward the same ones.
        sku_seasons_repeat: ``(n_categories,)`` booleans, whether a category's SKUs keep a
            seasonal index of their own (:func:`forecasting.seasonality.sku_seasons_repeat`:
            their deviations from the category's come back a year later); filled in by the
            planner from the whole panel. None: every SKU with a year of sales keeps one.
    """

    horizon: int = 13
    holdout_weeks: int = 13
    n_origins: int = 2
    size_curve_strength: float = 30.0
    own_model_min_rate: float = 2.0
    new_weeks: int = 8
    statsmodels_max_series: int = 20
    statsmodels_min_units: float = 0.0
    complexity_penalty: float = 0.05
    combine: int = 3
    pooled_seasonality: bool = True
    lifecycle: bool = True
    lifecycle_weeks: int = 26
    lifecycle_season: bool = False
    seasonal_index: np.ndarray | None = None
    start_week: int = 0
    sku_seasons_repeat: np.ndarray | None = None


def forecast_chunk(y, sku, prior, kept, rate, opts: DemandOptions, cat=None, weeks=None,
                   window: WindowOrigins | None = None) -> dict:
    """Forecast one chunk of whole SKUs (rows sorted by ``sku``, codes ``0..n_sku-1``).

    Args:
        y: ``(n, T)`` weekly units per size.
        sku: ``(n,)`` SKU code per row, non-decreasing.
        prior: ``(n,)`` category size share renormalised within the SKU.
        kept: ``(n,)`` kept units (sold minus returned) per size.
        rate: ``(n,)`` return probability per size.
        cat: ``(n,)`` category code per row (rows of a SKU share it); needed for pooled
            seasonality.
        weeks, window: ``(n,)`` L+R weeks per row and the panel's rolling origins: given, the
            chunk also measures each row's window errors for the spread
            (:func:`forecasting.spread.size_window_errors`), where its SKUs' data already are.

    Returns:
        A dict of per-row arrays and a ``counts`` Counter (fallbacks, statsmodels use); with
        ``window``, ``window_error`` and ``window_forecast`` too, ``(n, origins)`` each.
    """
    given = y
    y = np.nan_to_num(np.asarray(y, np.float64), nan=0.0, posinf=0.0).clip(min=0)
    _n, T = y.shape
    starts = np.flatnonzero(np.r_[True, sku[1:] != sku[:-1]])
    n_sku = len(starts)
    y_sku = np.add.reduceat(y, starts, axis=0)
    season = _season_factors(y_sku, None if cat is None else cat[starts], opts)
    sel, season = _select_with_season(y_sku, season, opts)
    counts = Counter(sel.fallbacks)
    statsmodels_ets.refine(y_sku, sel, holdout_weeks=opts.holdout_weeks,
                           max_series=opts.statsmodels_max_series,
                           min_units=opts.statsmodels_min_units, counts=counts)

    first = first_sale(y)
    new = first >= T - opts.new_weeks
    share = gross_shares(kept_shares(kept, prior, sku, n_sku, strength=opts.size_curve_strength,
                                     new=new), rate, sku, n_sku)
    sku_fc = sel.forecast
    fc = share[:, None] * sku_fc[sku]
    mean_sku = sku_fc.mean(axis=1)[sku]
    # Size error = SKU error carried by the share + the binomial noise of splitting the SKU total.
    sigma = np.sqrt(share**2 * sel.sigma[sku] ** 2 + share * (1 - share) * mean_sku)
    out = {
        "method": sel.method[sku].copy(), "why": sel.why[sku].copy(),
        "runner_up": sel.runner_up[sku].copy(), "score": sel.score[sku].copy(),
        "runner_up_score": sel.runner_up_score[sku].copy(), "alpha": sel.alpha[sku].copy(),
        "mae": sel.mae[sku].copy(), "runner_up_mae": sel.runner_up_mae[sku].copy(),
        "level": np.where(new, 2, 0).astype(np.int8), "share": share,
        "demand_class": classify(y), "sku_method": sel.method[sku].copy(),
    }
    counts["pooled_season_skus"] += int((season != 1).any(axis=1).sum())
    own = _own_models(y, sku, share, sel, opts, out, counts, season[sku])
    if own is not None:
        rows, own_sel, wins = own
        fc[rows[wins]] = own_sel.forecast[wins]
        sigma[rows[wins]] = own_sel.sigma[wins]
    out["forecast"] = reconcile(fc, sku_fc, sku, n_sku)
    out["sigma"] = sigma
    if window is not None and weeks is not None:
        method = np.asarray((*METHOD_NAMES, "zero"), dtype=object)[sel.method]
        out["window_error"], out["window_forecast"] = size_window_errors(
            given, y_sku, sku, method, share, np.asarray(weeks), window)
    out["counts"] = counts
    return out


def _season_factors(y_sku, cat_sku, opts):
    """``(n_sku, T + H)`` pooled index for SKUs with under two seasons of history, else ones."""
    n, T = y_sku.shape
    ones = np.ones((n, T + opts.horizon))
    if not opts.pooled_seasonality or opts.seasonal_index is None or cat_sku is None:
        return ones
    short = (T - first_sale(y_sku)) < 2 * SEASON
    if not short.any():
        return ones
    repeat = opts.sku_seasons_repeat
    index = series_index(y_sku[short], opts.seasonal_index[cat_sku[short]],
                         start_week=opts.start_week,
                         own=None if repeat is None else repeat[cat_sku[short]])
    ones[short] = factors(index, start_week=opts.start_week, n_weeks=T + opts.horizon)
    return ones


def _select_with_season(y_sku, season, opts):
    """Select on the SKU totals, deseasonalised by the pooled index where one applies, and
    multiply the forecasts back.

    Every short SKU takes its index: its holdout blocks (the last weeks before the forecast)
    do not hold the season ahead, so they cannot judge it; the shrinkage of the index toward
    flat where its data are weak is what protects a SKU from a season it does not have. The
    models are fitted on the deseasonalised weeks and judged on their errors in units sold.
    """
    T = y_sku.shape[1]
    sel = select(y_sku / season[:, :T], horizon=opts.horizon,
                 holdout_weeks=opts.holdout_weeks, n_origins=opts.n_origins,
                 penalty=opts.complexity_penalty, combine=opts.combine, scale=season[:, :T])
    _reseason(sel, season, T)
    return sel, season


def _reseason(sel, season, T):
    """Multiply a selection made on deseasonalised data back by the index, in place."""
    H = sel.forecast.shape[1]
    future = season[:, T : T + H]
    sel.forecast *= future
    sel.sigma *= future.mean(axis=1)
    for j, o in enumerate(sel.origins):
        hh = min(sel.holdout_forecast.shape[2], T - o)
        sel.holdout_forecast[:, j, :hh] *= season[:, o : o + hh]


def _own_models(y, sku, share, sel, opts, out, counts, season):
    """Fit sizes with enough steady history on their own; keep the model where it wins."""
    _n, T = y.shape
    sizes = np.bincount(sku)[sku]
    recent = y[:, -min(52, T):].mean(axis=1)
    cls = out["demand_class"]
    cand = np.flatnonzero((sizes > 1) & (recent >= opts.own_model_min_rate)
                          & np.isin(cls, (SMOOTH, ERRATIC)) & (out["level"] == 0))
    if cand.size == 0:
        return None
    own = select(y[cand] / season[cand, :T], horizon=opts.horizon,
                 holdout_weeks=opts.holdout_weeks, n_origins=opts.n_origins,
                 penalty=opts.complexity_penalty, scale=season[cand, :T])
    _reseason(own, season[cand], T)
    counts.update(own.fallbacks)
    split = share[cand, None, None] * sel.holdout_forecast[sku[cand]]
    actual = np.full_like(split, np.nan)
    for j, o in enumerate(own.origins):
        hh = min(opts.holdout_weeks, T - o)
        actual[:, j, :hh] = y[cand, o : o + hh]
    both = np.isfinite(split) & np.isfinite(own.holdout_forecast) & np.isfinite(actual)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Absolute error, as the selection judges: one bulk order must not decide it.
        e_own = np.where(both, np.abs(own.holdout_forecast - actual), 0).sum((1, 2))
        e_split = np.where(both, np.abs(split - actual), 0).sum((1, 2))
    # Charged for its parameters as selection charges a method (the split borrows the SKU's
    # model and adds none): uncharged, sizes without dynamics of their own won on noise (54 of
    # 150 on the online generator, 27 charged), forecasting worse than the split with a model
    # the window spread never refits (it measures the split).
    names = np.asarray((*METHOD_NAMES, "zero"), dtype=object)[own.method]
    charge = 1 + opts.complexity_penalty * np.array([N_PARAMS.get(m, 1) for m in names], float)
    wins = (both.sum((1, 2)) > 0) & (e_own * charge < e_split)
    rows = cand[wins]
    for key in ("method", "why", "runner_up", "score", "runner_up_score", "alpha", "mae",
                "runner_up_mae"):
        out[key][rows] = getattr(own, key)[wins]
    out["level"][rows] = 1
    counts["own_size_model_tried"] += int(cand.size)
    counts["own_size_model_won"] += int(wins.sum())
    return cand, own, wins
