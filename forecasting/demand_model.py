"""Demand only: one model per series, chosen by holdout, with prediction intervals.

:class:`~forecasting.pipeline.Planner` answers the planner's question (what to order, with
returns and size curves); :class:`DemandModel` answers the data scientist's (what will each
series sell), each series on its own, so its forecasts line up with statsforecast's::

    fitted = DemandModel(sales, models=("ses", "theta", "croston"), fallback="ses").fit()
    fc = fitted.forecast(13, level=[80, 95])
    fc.mean, fc.lower[80], fc.upper[95]      # (n, 13) arrays aligned with fc.ids

:mod:`forecasting.frames` turns the sales into a panel from a long frame and the forecast back
into one (``unique_id, ds, DemandModel, DemandModel-lo-80, ...``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from forecasting.models import FALLBACK, METHODS
from forecasting.panel import SalesPanel
from forecasting.selection import METHOD_NAMES, WHY, select


@dataclass(frozen=True)
class DemandPrediction:
    """``h`` weeks of forecast per series, with intervals at the levels asked for.

    Attributes:
        ids: ``(n,)`` series ids, in the panel's order.
        origin_week: the last observed week; row ``k`` of ``mean`` is week ``origin_week+k+1``.
        mean: ``(n, h)`` point forecasts (units per week, never negative).
        lower, upper: ``{level: (n, h)}`` bounds of the central ``level`` % interval; the
            lower bound is floored at zero as demand is.
        method: ``(n,)`` the model each series was forecast with.
    """

    ids: np.ndarray
    origin_week: int
    mean: np.ndarray
    lower: dict[float, np.ndarray] = field(default_factory=dict)
    upper: dict[float, np.ndarray] = field(default_factory=dict)
    method: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    @property
    def horizon(self) -> int:
        return int(self.mean.shape[1])


@dataclass(frozen=True)
class DemandFit:
    """What :meth:`DemandModel.fit` learnt: a model, its forecast path and spread per series.

    Attributes:
        ids, origin_week: as in :class:`DemandPrediction`.
        method: ``(n,)`` model names; why: ``holdout``, ``short_history``, ``fallback`` or
            ``no_demand`` (forecast zero).
        path: ``(n, max_horizon)`` point forecasts.
        sigma: ``(n,)`` one-week forecast error; alpha: ``(n,)`` how fast it grows with the
            horizon (``sigma * sqrt(1 + (k-1) alpha^2)`` in week ``k``, as in the planner).
        fallbacks: fits that failed and fell back, counted per model.
    """

    ids: np.ndarray
    origin_week: int
    method: np.ndarray
    why: np.ndarray
    path: np.ndarray
    sigma: np.ndarray
    alpha: np.ndarray
    fallbacks: dict[str, int]

    def forecast(self, h: int, *, level: Sequence[float] = ()) -> DemandPrediction:
        """The next ``h`` weeks (at most the model's ``max_horizon``), with a central
        interval per ``level`` in percent (``[80, 95]``, as statsforecast takes them)."""
        if not 1 <= h <= self.path.shape[1]:
            raise ValueError(f"h must be 1..{self.path.shape[1]} (the max_horizon fitted)")
        mean = self.path[:, :h]
        grow = self.sigma[:, None] * np.sqrt(1 + np.arange(h)[None, :] * self.alpha[:, None] ** 2)
        lower, upper = {}, {}
        for pct in level:
            if not 0 < pct < 100:
                raise ValueError(f"a level is a percentage between 0 and 100, not {pct}")
            half = stats.norm.ppf(0.5 + pct / 200) * grow
            lower[pct], upper[pct] = np.maximum(mean - half, 0.0), mean + half
        return DemandPrediction(self.ids, self.origin_week, mean, lower, upper, self.method)


class DemandModel:
    """Choose a forecasting model per series by rolling-origin holdout, and fit it.

    Args:
        sales: weekly units sold per series (:class:`~forecasting.panel.SalesPanel`).

    Keyword-only options:
        models: candidate model names (:data:`forecasting.models.METHODS`; default all).
            A series tries those that suit its demand class (intermittent or smooth).
        fallback: the model for a series none of ``models`` could be scored on, and for one
            whose chosen model fails to fit (default: moving average, then the library's
            fallback chain). If it fails too, the series is forecast zero and counted.
        max_horizon: the longest ``h`` :meth:`DemandFit.forecast` can be asked for.
        holdout_weeks, n_origins: the rolling-origin holdout the models compete on.
        penalty: holdout MAE is charged ``1 + penalty * parameters`` before ranking.
    """

    def __init__(self, sales: SalesPanel, *, models: Sequence[str] | None = None,
                 fallback: str | None = None, max_horizon: int = 52, holdout_weeks: int = 13,
                 n_origins: int = 2, penalty: float = 0.05):
        unknown = sorted({*(models or ()), *([fallback] if fallback else [])} - set(METHODS))
        if unknown:
            raise ValueError(f"unknown model {unknown[0]!r}; one of {', '.join(METHODS)}")
        if models is not None and not models:
            raise ValueError("models must name at least one model")
        if sales.n_weeks == 0:
            raise ValueError("the sales panel has no weeks of history")
        self.sales = sales
        self.models = tuple(models) if models is not None else tuple(METHODS)
        self.fallback = fallback
        self.max_horizon = int(max_horizon)
        self.holdout_weeks, self.n_origins = int(holdout_weeks), int(n_origins)
        self.penalty = float(penalty)

    def fit(self) -> DemandFit:
        """Select and fit; never raises for an odd series (it falls back and is counted)."""
        if self.fallback is None:
            first, chain = "moving_average", FALLBACK
        else:
            first = self.fallback
            chain = {**dict.fromkeys(METHODS, self.fallback), self.fallback: None}
        sel = select(self.sales.y, horizon=self.max_horizon, holdout_weeks=self.holdout_weeks,
                     n_origins=self.n_origins, methods=self.models, penalty=self.penalty,
                     fallback=first, chain=chain)
        return DemandFit(
            ids=self.sales.ids, origin_week=self.sales.last_week,
            method=np.asarray(METHOD_NAMES, dtype=object)[sel.method],
            why=np.asarray(WHY, dtype=object)[sel.why], path=np.maximum(sel.forecast, 0.0),
            sigma=sel.sigma, alpha=sel.alpha, fallbacks=dict(sel.fallbacks))
