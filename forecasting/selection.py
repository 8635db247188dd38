"""Per-series model selection by rolling-origin holdout, with counted fallbacks.

For each origin (the last ``n_origins`` blocks of ``holdout_weeks``) every candidate method is
fitted on the history before the origin for all eligible series at once, and scored on the block
after it. Methods are ranked by mean absolute error: a squared error lets one week's one-off bulk
order in a holdout block decide the choice. The known hazard of absolute error, that it rewards
forecasting zero for mostly-zero series, needs a candidate that forecasts zero; the candidates
forecast a smoothed rate or last year's weeks, and measured on real and synthetic panels the
intermittent and lumpy series were not forecast lower (docs/forecasting.md). The winner is then
refitted on the whole history. A chosen method that fails on a series falls back
along :data:`forecasting.models.FALLBACK` and the fallback is counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from forecasting.classify import CLASS_NAMES, INTERMITTENT, LUMPY, NO_DEMAND, classify, first_sale
from forecasting.models import FALLBACK, METHODS
from forecasting.spread import window_spread

METHOD_NAMES = (*METHODS, "ets_statsmodels", "zero", "lifecycle")
CODE = {m: i for i, m in enumerate(METHOD_NAMES)}
WHY = ("holdout", "short_history", "fallback", "no_demand", "statsmodels_holdout", "new_product")

SMOOTH_SET = ("ses", "holt", "damped", "ets_seasonal", "theta", "seasonal_naive",
              "moving_average")
INTERMITTENT_SET = ("croston", "sba", "tsb", "adida", "ses", "seasonal_naive",
                    "moving_average")


@dataclass
class Selection:
    """Chosen model and forecast per series.

    Attributes:
        method: ``(n,)`` index into :data:`METHOD_NAMES`.
        why: ``(n,)`` index into :data:`WHY`.
        runner_up: ``(n,)`` second-best method index (-1 when there was no contest).
        score: ``(n,)`` holdout MSE of the chosen method (NaN without holdout).
        runner_up_score: ``(n,)`` holdout MSE of the runner-up.
        mae, runner_up_mae: ``(n,)`` their holdout mean absolute errors, which rank them.
        demand_class: ``(n,)`` ADI/CV^2 class code.
        forecast: ``(n, horizon)`` point forecast, never negative.
        sigma: ``(n,)`` one-week forecast error (larger of in-sample and holdout RMSE).
        alpha: ``(n,)`` smoothing constant used to widen intervals with the horizon.
        holdout_forecast: ``(n, n_origins, holdout_weeks)`` chosen method's holdout forecasts
            (NaN where the origin had too little history).
        fallbacks: failed fits per method that were replaced by a simpler one.
    """

    method: np.ndarray
    why: np.ndarray
    runner_up: np.ndarray
    score: np.ndarray
    runner_up_score: np.ndarray
    demand_class: np.ndarray
    forecast: np.ndarray
    sigma: np.ndarray
    alpha: np.ndarray
    holdout_forecast: np.ndarray
    mae: np.ndarray
    runner_up_mae: np.ndarray
    origins: tuple
    fallbacks: Counter = field(default_factory=Counter)


# Smoothing parameters each method estimates; the complexity penalty charges for them, so a trend
# model must beat the flat ones by more than noise to be chosen.
N_PARAMS = {"ses": 1, "holt": 2, "damped": 3, "ets_seasonal": 3, "theta": 2, "croston": 1,
            "sba": 1, "tsb": 2, "adida": 1, "seasonal_naive": 0, "moving_average": 1}


def candidate_mask(demand_class: np.ndarray, methods=METHODS) -> np.ndarray:
    """``(n, n_methods)`` True where a method may be chosen for the series' demand class."""
    inter = np.isin(demand_class, (INTERMITTENT, LUMPY))
    cols = []
    for m in methods:
        cols.append(np.where(inter, m in INTERMITTENT_SET, m in SMOOTH_SET))
    return np.stack(cols, axis=1)


def run_kernel(name, y, start, horizon, errors: Counter):
    """Call one kernel; if it raises, every row is marked failed and the error is counted."""
    try:
        return METHODS[name](y, start, horizon)
    except Exception:  # noqa: BLE001 - a broken kernel must not abort the nightly batch
        errors[f"{name}:kernel_error"] += len(y)
        return None


def select(y: np.ndarray, *, horizon: int, holdout_weeks: int = 13, n_origins: int = 2,
           min_train: int = 26, methods=tuple(METHODS), penalty: float = 0.0,
           combine: int = 1, fallback: str = "moving_average",
           chain: Mapping[str, str | None] = FALLBACK, scale=None) -> Selection:
    """Choose a method per row of ``y`` by rolling-origin holdout and forecast ``horizon`` weeks.

    Args:
        y: ``(n, T)`` weekly history, one row per series.
        horizon: weeks to forecast after the last column.
        holdout_weeks: length of each holdout block.
        n_origins: number of rolling origins (blocks) scored.
        min_train: weeks of life a series needs before an origin to be scored there.
        methods: candidate method names (subset of :data:`forecasting.models.METHODS`).
        penalty: holdout MAE is multiplied by ``1 + penalty * parameters`` (:data:`N_PARAMS`)
            before methods are ranked: on noise a trend model wins the holdout by chance.
        combine: average the forecasts of this many best-ranked methods (1 = the best only).
        fallback: the method of a series no candidate could be scored on (too short a
            history, or no candidate for its demand class).
        chain: the method a failed fit falls back to, per method (None: forecast zero).
        scale: ``(n, T)`` factors ``y`` was divided by (a seasonal index), or None. The models
            are fitted on ``y`` as given, but their holdout errors are multiplied back, so
            the contest is judged in units sold, as the forecast multiplied back will be: on
            the divided series a week of high season would count for less than its units.

    Returns:
        A :class:`Selection`; it never raises for odd data.
    """
    y = np.nan_to_num(np.asarray(y, dtype=np.float64), nan=0.0, posinf=0.0).clip(min=0)
    n, T = y.shape
    methods = tuple(methods)
    start = first_sale(y)
    cls = classify(y)
    allowed = candidate_mask(cls, methods)
    origins = tuple(o for o in (T - k * holdout_weeks for k in range(n_origins, 0, -1)) if o > 0)
    sq = np.zeros((n, len(methods)))
    ab = np.zeros((n, len(methods)))
    cnt = np.zeros((n, len(methods)))
    hold = np.full((n, len(methods), len(origins), holdout_weeks), np.nan)
    fallbacks: Counter = Counter()
    for j, o in enumerate(origins):
        hh = min(holdout_weeks, T - o)
        rows_o = (o - start >= min_train) & (cls != NO_DEMAND)
        for i, m in enumerate(methods):
            rows = np.flatnonzero(rows_o & allowed[:, i])
            if rows.size == 0:
                continue
            fit = run_kernel(m, y[rows, :o], start[rows], hh, fallbacks)
            if fit is None:
                continue
            good = rows[fit.ok]
            err = fit.forecast[fit.ok] - y[good, o : o + hh]
            if scale is not None:
                err = err * scale[good, o : o + hh]
            sq[good, i] += (err * err).sum(axis=1)
            ab[good, i] += np.abs(err).sum(axis=1)
            cnt[good, i] += hh
            hold[good, i, j, :hh] = fit.forecast[fit.ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(cnt > 0, sq / cnt, np.inf)
        mae = np.where(cnt > 0, ab / cnt, np.inf)
    # A method must have been scored on every origin the series was scored on to compete.
    full = cnt >= cnt.max(axis=1, keepdims=True)
    score = np.where(full, score, np.inf)
    mae = np.where(full, mae, np.inf)
    charge = 1 + penalty * np.array([N_PARAMS.get(m, 1) for m in methods], float)
    order = np.argsort(mae * charge, axis=1, kind="stable")
    r = np.arange(n)
    best, second = order[:, 0], order[:, 1] if len(methods) > 1 else order[:, 0]
    scored = np.isfinite(score[r, best])
    code = np.array([CODE[m] for m in methods])
    method = np.where(scored, code[best], CODE[fallback])
    why = np.where(scored, WHY.index("holdout"), WHY.index("short_history"))
    has_second = scored & np.isfinite(score[r, second])
    runner_up = np.where(has_second, code[second], -1)
    method = np.where(cls == NO_DEMAND, CODE["zero"], method)
    why = np.where(cls == NO_DEMAND, WHY.index("no_demand"), why)
    sel = Selection(
        method=method, why=why, runner_up=runner_up,
        score=np.where(scored, score[r, best], np.nan),
        runner_up_score=np.where(has_second, score[r, second], np.nan),
        demand_class=cls, forecast=np.zeros((n, horizon)), sigma=np.zeros(n), alpha=np.zeros(n),
        holdout_forecast=np.where(scored[:, None, None], hold[r, best], np.nan),
        mae=np.where(scored, mae[r, best], np.nan),
        runner_up_mae=np.where(has_second, mae[r, second], np.nan), origins=origins,
        fallbacks=fallbacks,
    )
    _final_fit(y, start, horizon, sel, chain)
    if combine > 1:
        _combine(y, start, horizon, sel, order[:, 1:combine], score, methods)
    return sel


def _combine(y, start, horizon, sel: Selection, others, score, methods) -> None:
    """Average the chosen forecast with the next-ranked methods' where they were scored and fit.

    Equal weights: estimated weights add noise for little gain (the forecast-combination
    puzzle). Only series still on their holdout choice are combined; fallbacks stay as they are.
    """
    r = np.arange(len(y))
    on = sel.why == WHY.index("holdout")
    total = np.where(on[:, None], sel.forecast, 0.0)
    weight = on.astype(float)
    for k in range(others.shape[1]):
        col = others[:, k]
        for i, m in enumerate(methods):
            rows = np.flatnonzero(on & (col == i) & np.isfinite(score[r, i]))
            if rows.size == 0:
                continue
            fit = run_kernel(m, y[rows], start[rows], horizon, Counter())
            if fit is None:
                continue
            good = rows[fit.ok]
            total[good] += fit.forecast[fit.ok]
            weight[good] += 1
    k = on & (weight > 1)
    sel.forecast[k] = total[k] / weight[k, None]


def _final_fit(y, start, horizon, sel: Selection,
               chain: Mapping[str, str | None] = FALLBACK) -> None:
    """Refit each chosen method on the full history; failures walk down the fallback chain."""
    groups = {name: np.flatnonzero(sel.method == CODE[name]) for name in METHODS}
    T = y.shape[1]
    for first, rows in groups.items():
        name: str | None = first
        while name is not None and rows.size:
            fit = run_kernel(name, y[rows], start[rows], horizon, sel.fallbacks)
            ok = np.zeros(rows.size, bool) if fit is None else fit.ok
            done = rows[ok]
            sel.method[done] = CODE[name]
            if done.size:
                sel.forecast[done] = fit.forecast[ok]
                # One-step errors are the model's own one-week-ahead errors: the one spread
                # function turns them into the week's sigma (no max with the multi-week holdout
                # MSE, which inflated it). A chunk is no group, so no pooling here: the
                # pipeline pools window errors by category.
                sel.sigma[done] = window_spread(fit.sigma[ok] ** 2, T - start[done],
                                                np.maximum(y[done].mean(axis=1), 1e-9),
                                                strength=0.0)
                sel.alpha[done] = fit.alpha[ok]
            rows = rows[~ok]
            if rows.size:
                sel.fallbacks[name] += rows.size
                sel.why[rows] = WHY.index("fallback")
            name = chain.get(name)
        if rows.size:  # even the moving average failed: forecast zero, keep the batch going
            sel.method[rows] = CODE["zero"]
            sel.sigma[rows] = np.sqrt((y[rows] ** 2).mean(axis=1))


def describe(sel: Selection, i: int) -> str:
    """Human-readable reason for the model chosen for series ``i``."""
    m = METHOD_NAMES[sel.method[i]]
    w = WHY[sel.why[i]]
    cls = CLASS_NAMES[sel.demand_class[i]]
    if w in ("holdout", "statsmodels_holdout") and sel.runner_up[i] >= 0:
        return (f"{m}: lowest holdout MAE {sel.mae[i]:.3g} vs {METHOD_NAMES[sel.runner_up[i]]} "
                f"{sel.runner_up_mae[i]:.3g} ({cls} demand)")
    return f"{m}: {w.replace('_', ' ')} ({cls} demand)"
