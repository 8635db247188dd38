"""The entry point: panels and stock in, forecasts, return estimates and orders out.

``Planner(sales, returns, stock, items, **options).fit()`` (or :func:`run_pipeline`) runs:

1. return estimates for every series at once (empirical Bayes over SKU and category);
2. demand per SKU, split into sizes, chunked by SKU and optionally spread over processes;
3. expected restockable returns per future week;
4. return-aware and return-blind order-up-to quantities, with every term kept.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
from scipy import sparse, stats

from forecasting.classify import CLASS_NAMES, INTERMITTENT, LUMPY, first_sale
from forecasting.demand import LEVELS, DemandOptions
from forecasting.lifecycle import new_products
from forecasting.models.statsmodels_ets import SEASON
from forecasting.panel import ItemParams, ReturnsData, SalesPanel, StockPosition, split_ids
from forecasting.parallel import map_rows, run_chunks
from forecasting.replenishment import (
    ReplenishmentOptions,
    order_up_to,
    safety_stock_quantile,
    window_sum,
)
from forecasting.results import DemandForecast, PlanResult, ReplenishmentPlan, ReturnEstimates
from forecasting.returns import (
    ReturnCounts,
    count_returns,
    expected_arrivals,
    fit_returns,
    known_cohorts,
    open_cohorts,
)
from forecasting.seasonality import category_index, sku_seasons_repeat
from forecasting.selection import METHOD_NAMES, WHY
from forecasting.sizes import category_curve, prior_shares
from forecasting.spread import (
    WindowOrigins,
    level_variance,
    spread_at_level,
    spread_from_errors,
)

# Weeks of the panel summed by group at a time (a million rows of 8 weeks: 64 MiB).
GROUP_WEEKS = 8


class Planner:
    """Forecast demand, estimate returns and suggest orders for a whole panel of SKU x sizes.

    Args:
        sales: weekly units sold per series (:class:`~forecasting.panel.SalesPanel`).
        returns: returns with sale and receipt weeks, reason and grade (default: none);
            counted per series when the planner is made and not kept. Or the counts
            themselves (:class:`~forecasting.returns.ReturnCounts`, from
            :func:`~forecasting.returns.count_returns` with ``last_week=sales.last_week`` and
            ``window=return_window_weeks``), e.g. counted by the workers that read them.
        stock: stock position per series (default: nothing on hand or on order).
        items: planning parameters per series (default: :meth:`ItemParams.uniform`).

    Keyword-only options:
        horizon: weeks to forecast (raised to the longest lead time + review period).
        holdout_weeks, n_origins: rolling-origin holdout for model choice.
        return_window_weeks: the returns policy window; lags beyond it are impossible.
        interval_level: coverage of the forecast interval.
        default_restockable: restockable share assumed before any unit has been graded.
        workers: processes for the demand step (1 = in this process).
        chunk_size: rows per chunk (whole SKUs are never split).
        executor: a :class:`concurrent.futures.Executor` to run the chunks on instead of local
            processes (for example a Dask client's ``get_executor()``); results are identical.
        chunks: split the panel into about this many chunks (overrides ``chunk_size``).
        demand: a :class:`~forecasting.demand.DemandOptions` for finer control.
        replenishment: a :class:`~forecasting.replenishment.ReplenishmentOptions`.
    """

    def __init__(self, sales: SalesPanel, returns: ReturnsData | ReturnCounts | None = None,
                 stock: StockPosition | None = None, items: ItemParams | None = None, *,
                 horizon: int = 13, holdout_weeks: int = 13, n_origins: int = 2,
                 return_window_weeks: int = 8, interval_level: float = 0.8,
                 default_restockable: float = 0.8, workers: int = 1, chunk_size: int = 20_000,
                 executor: Executor | None = None, chunks: int | None = None,
                 demand: DemandOptions | None = None,
                 replenishment: ReplenishmentOptions | None = None):
        n = len(sales.ids)
        # Said here, in words: every later stage would fail on an empty array in its own way.
        if n == 0:
            raise ValueError("the sales panel has no series to plan")
        if sales.n_weeks == 0:
            raise ValueError("the sales panel has no weeks of history")
        self.sales = sales
        self.stock = stock if stock is not None else StockPosition.empty(n)
        self.items = items if items is not None else ItemParams.uniform(n)
        protect = int(np.max(self.items.lead_time + self.items.review_period, initial=1))
        base = demand or DemandOptions(horizon=horizon, holdout_weeks=holdout_weeks,
                                       n_origins=n_origins)
        self.demand_options = replace(base, horizon=max(base.horizon, protect))
        self.replenishment_options = replenishment or ReplenishmentOptions()
        self.window = int(return_window_weeks)
        self.interval_level = float(interval_level)
        self.default_restockable = float(default_restockable)
        self.workers = int(workers)
        self.chunk_size = int(chunk_size) if not chunks else max(1, -(-n // int(chunks)))
        self.executor = executor
        # The long returns table (tens of millions of rows at a million series) is read once,
        # here, into per-series counts and not kept: a caller may let it go before fit().
        t0 = time.perf_counter()
        if isinstance(returns, ReturnCounts):
            if returns.recent_returned.shape != (n, self.window):
                raise ValueError(f"the return counts are of {returns.recent_returned.shape} "
                                 f"(series, window weeks); the panel needs {(n, self.window)}")
            self.return_counts = returns
        else:
            self.return_counts = count_returns(returns if returns is not None
                                               else ReturnsData.empty(), n,
                                               last_week=sales.last_week, window=self.window)
        self._count_s = time.perf_counter() - t0

    def fit(self) -> PlanResult:
        """Run the whole pipeline; never raises for odd series (they fall back and are counted)."""
        t0 = time.perf_counter()
        timings = {}
        sales, n = self.sales, len(self.sales.ids)
        sku_name, size_name = split_ids(sales.ids)
        _, sku = np.unique(sku_name, return_inverse=True)
        n_sku = int(sku.max()) + 1 if n else 0
        cat_names, cat = np.unique(np.asarray(self.items.category, dtype=str), return_inverse=True)
        n_cat = len(cat_names)
        sku_cat = np.zeros(n_sku, dtype=np.int64)
        sku_cat[sku] = cat

        # Totals per SKU and per category, summed once here for every stage that needs them.
        y_sku = group_rows(sales.y, sku, n_sku)
        y_cat = group_rows(sales.y, cat, n_cat)
        t1 = time.perf_counter()
        season = category_index(y_cat, start_week=sales.start_week)
        with self._beside() as beside:
            # On a cluster the SKU-season test's rows are out on the workers while this
            # process fits the returns, the size curves and the statsmodels threshold.
            repeat = beside(sku_seasons_repeat, y=y_sku, cat=sku_cat, index=season,
                            start_week=sales.start_week, map_rows=self._on_workers)
            _, size_code = np.unique(size_name, return_inverse=True)
            n_size = int(size_code.max()) + 1 if n else 0
            cells, cell = np.unique(cat * n_size + size_code, return_inverse=True)
            del sku_name, size_name  # fixed-width strings, tens of MiB at a million series

            tr = time.perf_counter()
            rf = fit_returns(sales.y, self.return_counts, sku=sku, n_sku=n_sku,
                             sku_cat=sku_cat, n_cat=n_cat, cell=cell, n_cell=len(cells),
                             default_restockable=self.default_restockable)
            returns_s = time.perf_counter() - tr
            kept = sales.y.sum(axis=1, dtype=np.float64) - rf.returned
            curve = category_curve(kept, cell, len(cells), cells // max(n_size, 1), n_cat)[cell]
            prior = prior_shares(curve, sku, n_sku)
            threshold = self._statsmodels_threshold(y_sku)
            opts = replace(self.demand_options, statsmodels_min_units=threshold,
                           seasonal_index=season, start_week=sales.start_week,
                           sku_seasons_repeat=repeat())
        timings["returns_s"] = returns_s + self._count_s
        order = None if np.all(sku[1:] >= sku[:-1]) else np.argsort(sku, kind="stable")

        def perm(a):
            return a if order is None else a[order]

        # The window spread's rolling refits run in the chunks, beside the forecasts (the
        # driver's serial share bounded what a second worker could gain); they are fixed
        # here for the whole panel, the windows ending before the selection holdout (inside
        # it the chosen model looks better than it is: it won there, partly by luck).
        weeks = self._window_weeks()
        d = self.demand_options
        window = WindowOrigins(kmax=int(weeks.max()),
                               n_origins=self.replenishment_options.spread_origins,
                               end=sales.y.shape[1] - d.holdout_weeks * d.n_origins)
        dem, dcounts = run_chunks(perm(sales.y), perm(sku), perm(prior), perm(kept),
                                  perm(rf.rate), opts, workers=self.workers,
                                  chunk_size=self.chunk_size, executor=self.executor,
                                  cat=perm(cat), weeks=perm(weeks), window=window)
        if order is not None:
            inv = np.empty_like(order)
            inv[order] = np.arange(n)
            dem = {k: v[inv] for k, v in dem.items()}
        dem["profile"] = np.full(n, "", dtype=object)
        if self.demand_options.lifecycle:
            self._new_products(dem, y_sku, sku, sku_cat, cat_names, dcounts,
                               opts.seasonal_index, y_cat)
        timings["demand_s"] = time.perf_counter() - t1 - returns_s  # less the returns, fitted in it

        t2 = time.perf_counter()
        errors = dem.pop("window_error"), dem.pop("window_forecast")
        with self._beside() as beside:
            # First (here, so the chunks' (n, origins) window errors go before the results
            # are built); on a cluster beside the results instead, the spread's level law
            # being the longest serial step after the chunks, and nothing of it needed there.
            sigma_window = beside(self._window_sigma, cat=cat, dem=dem, weeks=weeks,
                                  errors=errors)
            del errors
            demand = self._demand_result(dem)
            cohorts = self._cohorts(rf)
            returns = self._returns_result(rf, cohorts, demand.forecast)
            sigma_window = sigma_window()
        # Everything replan() needs, none of it depending on the targets it changes.
        self._fitted = (demand, returns, cohorts, dem["demand_class"], sigma_window)
        plan = self._plan(*self._fitted)
        timings["replenishment_s"] = time.perf_counter() - t2
        timings["total_s"] = time.perf_counter() - t0
        diag: dict[str, Any] = {
            "n_series": n, "n_skus": n_sku, "n_categories": n_cat,
            "methods": dict(Counter(demand.method.tolist())),
            "levels": dict(Counter(demand.level.tolist())),
            "fallbacks": fallback_counts(dcounts),
            "counts": dict(dcounts),
            "timings": timings,
        }
        diag["fallbacks_total"] = int(sum(diag["fallbacks"].values()))
        return PlanResult(demand=demand, returns=returns, replenishment=plan, diagnostics=diag)

    def _new_products(self, dem, y_sku, sku, sku_cat, cat_names, counts, season,
                      y_cat) -> None:
        """Replace the rows of SKUs younger than the lifecycle profile, in place: the SKU
        forecast from :func:`forecasting.lifecycle.new_products`, split by the same shares."""
        o, n, n_sku = self.demand_options, len(sku), len(y_sku)
        new = new_products(y_sku, sku, sku_cat, len(cat_names),
                           start_week=self.sales.start_week, weeks=o.lifecycle_weeks,
                           horizon=dem["forecast"].shape[1],
                           launched_week=self.items.launched_week,
                           launch_quantity=self.items.launch_quantity,
                           on_order=self.stock.on_order_total(n),
                           season=season if o.lifecycle_season else None, y_cat=y_cat)
        if new is None:
            counts["lifecycle_no_profiles"] += 1
            return
        pos = np.full(n_sku, -1)
        pos[new["sku"]] = np.arange(new["sku"].size)
        r = np.flatnonzero(pos[sku] >= 0)
        k = pos[sku[r]]
        share, fc_sku = dem["share"][r], new["forecast"][k]
        dem["forecast"][r] = share[:, None] * fc_sku
        dem["sigma"][r] = np.sqrt(share**2 * new["sigma"][k] ** 2
                                  + share * (1 - share) * fc_sku.mean(axis=1))
        dem["method"][r] = METHOD_NAMES.index("lifecycle")
        dem["why"][r] = WHY.index("new_product")
        dem["runner_up"][r] = -1
        dem["score"][r] = np.nan
        dem["runner_up_score"][r] = np.nan
        dem["mae"][r] = np.nan
        dem["runner_up_mae"][r] = np.nan
        dem["alpha"][r] = 0.5  # the level is uncertain: intervals widen with the horizon
        text = np.asarray([f"category {str(cat_names[c])!r} {t}" for c, t in zip(
            sku_cat[new["sku"]].tolist(), new["profile"], strict=True)], dtype=object)
        dem["profile"][r] = text[k]
        counts["lifecycle_skus"] += int(new["sku"].size)

    def _statsmodels_threshold(self, y_sku) -> float:
        """SKU volume that admits the run's ``statsmodels_max_series`` largest eligible SKUs.

        Fixed for the whole panel before chunking, so every chunk (in any process) tries the
        same SKUs: the forecasts do not depend on the number of workers or chunks.
        """
        o = self.demand_options
        T = y_sku.shape[1]
        if o.statsmodels_max_series <= 0 or T - o.holdout_weeks < 2 * SEASON:
            return float("inf")
        start = first_sale(y_sku)
        vol = y_sku.sum(axis=1)
        ok = T - o.holdout_weeks - start >= 2 * SEASON
        if not ok.any():
            return float("inf")
        top = np.sort(vol[ok])[::-1]
        return float(top[min(o.statsmodels_max_series, top.size) - 1])

    def replan(self, items: ItemParams, *, sold_share=None) -> ReplenishmentPlan:
        """The replenishment step again for other targets or policies, after :meth:`fit`.

        Forecasts, return estimates and the spread do not depend on the targets, so a grid of
        targets (the replay's curves) costs one fit and a cheap step per target.

        ``sold_share`` (``(n, W)``, column ``a`` = the week ``a`` weeks before the last) is the
        share of each recent week's recorded sales that was actually sold, where the sales
        panel records demand that went unserved: a lost sale never comes back, so the known
        cohorts hold only the units sold (a replay's policies each sell their own share).
        """
        demand, returns, cohorts, demand_class, sigma_window = self._fitted
        if sold_share is not None:
            share = np.clip(np.asarray(sold_share, float), 0.0, 1.0)
            k = min(cohorts.open_units.shape[1], share.shape[1])
            open_units = cohorts.open_units.copy()
            open_units[:, :k] *= share[:, :k]
            cohorts = replace(cohorts, open_units=open_units)
            past, fut = expected_arrivals(cohorts, forecast=demand.forecast)
            returns = replace(returns, expected_restockable=past + fut,
                              expected_from_past_sales=past)
        saved, self.items = self.items, items
        try:
            return self._plan(demand, returns, cohorts, demand_class, sigma_window)
        finally:
            self.items = saved

    def _demand_result(self, dem) -> DemandForecast:
        fc = dem["forecast"]
        H = fc.shape[1]
        z = stats.norm.ppf(0.5 + self.interval_level / 2)
        # In place, (n, H) floats being 0.1 GiB each at a million series: the half-width grows
        # with the horizon, the lower bound is floored at 0, and the half-width becomes the upper.
        half = np.sqrt(1 + np.arange(H)[None, :] * dem["alpha"][:, None] ** 2)
        half *= z * dem["sigma"][:, None]
        lower = fc - half
        np.maximum(lower, 0, out=lower)
        upper = np.add(fc, half, out=half)
        names = labels((*METHOD_NAMES, ""))
        return DemandForecast(
            ids=self.sales.ids, origin_week=self.sales.last_week, forecast=fc,
            lower=lower, upper=upper, interval_level=self.interval_level,
            method=names[dem["method"]], why=labels(WHY)[dem["why"]],
            runner_up=names[dem["runner_up"]], holdout_mse=dem["score"],
            runner_up_mse=dem["runner_up_score"], level=labels(LEVELS)[dem["level"]],
            demand_class=labels(CLASS_NAMES)[dem["demand_class"]], share=dem["share"],
            sigma=dem["sigma"], profile=dem["profile"], holdout_mae=dem["mae"],
            runner_up_mae=dem["runner_up_mae"])

    def _cohorts(self, rf):
        """The units of the last ``window`` weeks' sales still out (:func:`open_cohorts`)."""
        y = self.sales.y
        k = min(self.window, y.shape[1])
        recent = np.zeros((len(y), self.window))
        recent[:, :k] = y[:, y.shape[1] - k :][:, ::-1]
        return open_cohorts(recent_sales=recent, recent_returned=rf.counts.recent_returned,
                            rate=rf.rate, pmf=rf.lag_pmf, restockable=rf.restockable)

    def _returns_result(self, rf, cohorts, forecast) -> ReturnEstimates:
        past, fut = expected_arrivals(cohorts, forecast=forecast)
        return ReturnEstimates(
            ids=self.sales.ids, rate=rf.rate, rate_sku=rf.rate_sku,
            rate_category=rf.rate_category, too_small=rf.reason_share[:, 0],
            too_large=rf.reason_share[:, 1], other_reason=rf.reason_share[:, 2],
            restockable_share=rf.restockable, lag_median=rf.lag_median,
            lag_median_days=rf.lag_median_days, lag_pmf=rf.lag_pmf,
            expected_restockable=np.add(past, fut, out=fut), expected_from_past_sales=past,
            units_returned=rf.returned, exposure=rf.exposure)

    def _window_weeks(self) -> np.ndarray:
        """L+R weeks per series, at least one."""
        return np.maximum(np.asarray(self.items.lead_time + self.items.review_period,
                                     np.int64), 1)

    def _window_sigma(self, cat, dem, weeks, errors) -> np.ndarray:
        """The spread of each series' forecast over its L+R window (:mod:`forecasting.spread`).

        The chunks measured every size's window errors (the SKU's own method refitted at
        rolling origins on the SKU total, times the size's share: they carry both the SKU's
        error and the noise of the split, measured rather than assumed); here they are pooled.
        """
        err, fsum = errors
        del errors
        # Pool within category and method: a trend model's window errors are not a level's.
        groups, group = np.unique(cat * len(METHOD_NAMES) + dem["sku_method"], return_inverse=True)
        # The errors were made half a year back, at that season's level: each category's
        # error-versus-level law carries them to the level forecast now.
        law = level_variance(err, fsum, cat, int(cat.max(initial=0)) + 1)
        if law is None:  # too few errors in the whole panel to read a law: weeks x sigma^2
            scale = weeks * np.maximum(dem["sigma"], 1e-3) ** 2
            return spread_from_errors(err, weeks, scale, group=group, n_groups=len(groups))
        return spread_at_level(err, fsum, weeks, window_sum(dem["forecast"], weeks), law[cat],
                               group=group, n_groups=len(groups))

    def _plan(self, demand, returns, cohorts, demand_class,
              sigma_window=None) -> ReplenishmentPlan:
        it, st, n = self.items, self.stock, len(self.sales.ids)
        weeks = np.asarray(it.lead_time + it.review_period, dtype=np.int64)
        gross = window_sum(demand.forecast, weeks)
        past = window_sum(returns.expected_from_past_sales, weeks)
        fut = window_sum(returns.expected_restockable - returns.expected_from_past_sales, weeks)
        # Returns in transit are part of what past sales will send back; never expect fewer.
        past = np.maximum(past, np.asarray(st.returns_in_transit) * returns.restockable_share)
        if st.returns_awaiting_grading is not None:
            # Already received, so not in what past sales still send: on top of it.
            past = past + np.asarray(st.returns_awaiting_grading) * returns.restockable_share
        back = past + fut
        # Known cohorts: binomial variance of what units sold and still out send back in L+R.
        open_units, cohort_mean, cohort_var = known_cohorts(cohorts, weeks=weeks)
        rho = returns.restockable_share
        past_var = cohort_var + np.maximum(past - cohort_mean, 0.0) * (1 - rho)
        on_order = st.on_order_total(n)
        inter = np.isin(demand_class, (INTERMITTENT, LUMPY))
        common = dict(sigma_week=demand.sigma, sigma_window=sigma_window, weeks=weeks,
                      service_level=it.service_level, review=it.review_period,
                      target=it.service_target, holding=it.holding_cost,
                      shortage=it.shortage_cost, order_cost=it.order_cost,
                      intermittent=inter, on_hand=st.on_hand, reserved=st.reserved,
                      group=np.unique(np.asarray(it.category, dtype=str), return_inverse=True)[1],
                      on_order=on_order, case_pack=it.case_pack, moq=it.moq,
                      quantile=self._quantile, options=self.replenishment_options)
        with self._beside() as beside:
            # The return-blind plan depends on nothing of the aware one: on a cluster it goes
            # beside it, so each one's serial steps run while the other's quantiles are out.
            blind = beside(order_up_to, demand_window=gross, returns_window=np.zeros(n),
                           **common)
            aware = order_up_to(demand_window=gross, returns_window=back, returns_past=past,
                                returns_past_var=past_var, return_odds=returns.rate * rho,
                                return_lag_pmf=returns.lag_pmf, **common)
            blind = blind()
        return ReplenishmentPlan(
            ids=self.sales.ids, protection_weeks=weeks, gross_demand=gross, expected_returns=back,
            service_level=np.asarray(it.service_level, float),
            safety_stock_method=labels(("normal", "quantile"))[inter.astype(np.int8)],
            sigma_window=aware["sigma_window"], safety_stock=aware["safety_stock"],
            order_up_to=aware["order_up_to"], on_hand=np.asarray(st.on_hand, float),
            reserved=np.asarray(st.reserved, float), on_order=on_order,
            inventory_position=aware["inventory_position"], raw_order=aware["raw_order"],
            order_qty=aware["order_qty"], moq_applied=aware["moq_applied"],
            order_value=aware["order_qty"] * np.asarray(it.unit_cost, float),
            blind_safety_stock=blind["safety_stock"], blind_order_up_to=blind["order_up_to"],
            blind_order_qty=blind["order_qty"], blind_sigma_window=blind["sigma_window"],
            service_target=aware["service_target"],
            policy=aware["policy"], order_lot=aware["order_lot"],
            cycle_level=aware["cycle_level"], units_still_out=open_units.sum(axis=1),
            returns_from_past_sales=past,
            returns_by_week=returns.expected_from_past_sales[:, : int(weeks.max(initial=1))])


    @contextmanager
    def _beside(self):
        """``beside(fn, **kw)`` starts ``fn(**kw)`` and returns a call that gives its answer:
        in a thread of this process when an executor does the heavy part (the thread mostly
        waits on it), else at once, here (two threads would share the local pool's chunks
        with the driver's own)."""
        if self.executor is None:
            def now(fn, **kw):
                result = fn(**kw)
                return lambda: result
            yield now
            return
        with ThreadPoolExecutor(1, thread_name_prefix="plan-beside") as pool:
            def later(fn, **kw):
                return pool.submit(fn, **kw).result
            yield later

    def _on_workers(self, fn, arrays) -> np.ndarray:
        """``fn(*arrays)``, row by row, on the demand step's workers (:func:`map_rows`): for
        the driver's serial steps before the chunks, which bound what a second worker gains."""
        return map_rows(fn, arrays, workers=self.workers, executor=self.executor)

    def _quantile(self, mean, var, level) -> np.ndarray:
        """:func:`safety_stock_quantile` (most of the order-up-to's cost: a negative binomial or
        Poisson quantile per intermittent row) on the demand step's workers."""
        return map_rows(safety_stock_quantile, (mean, var, level), workers=self.workers,
                        executor=self.executor)


def labels(names) -> np.ndarray:
    """``names`` as an object array, to be indexed by code: each row of the result then holds
    a pointer to one shared string (8 bytes) instead of a fixed-width copy (up to 76 bytes per
    row and column at a million rows)."""
    out = np.empty(len(names), dtype=object)
    out[:] = names
    return out


def group_rows(y, group, n_groups) -> np.ndarray:
    """``(n_groups, T)`` float64 sums of the rows of ``y`` by ``group`` (one sparse product).

    A few weeks at a time: the whole panel widened to float64 at once is 0.8 GiB at a million
    series. Each column's sums are added in the same order either way, so they are the same.
    """
    n, T = y.shape
    onehot = sparse.csr_matrix((np.ones(n), (group, np.arange(n))), shape=(n_groups, n))
    out = np.empty((n_groups, T))
    for a in range(0, T, GROUP_WEEKS):
        out[:, a : a + GROUP_WEEKS] = onehot @ np.asarray(y[:, a : a + GROUP_WEEKS], np.float64)
    return out


def fallback_counts(counts) -> dict:
    """The counts that are fallbacks: failed fits per method, not tallies of tries and wins.

    ``own_*`` and ``ets_statsmodels_*`` count attempts; a bare ``ets_statsmodels`` is a failed
    statsmodels fit that kept its kernel model, so it is a fallback.
    """
    return {k: v for k, v in counts.items()
            if not k.startswith(("own_", "ets_statsmodels_", "lifecycle_", "pooled_"))}


def run_pipeline(sales: SalesPanel, returns: ReturnsData | None = None,
                 stock: StockPosition | None = None, items: ItemParams | None = None,
                 **options) -> PlanResult:
    """Shortcut for ``Planner(sales, returns, stock, items, **options).fit()``."""
    return Planner(sales, returns, stock, items, **options).fit()
