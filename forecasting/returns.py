"""Return estimates per SKU x size: probability, reasons, lag, restockable share, future arrivals.

All rates are empirical-Bayes posterior means of beta-binomial models, shrunk from the size to its
SKU and from the SKU to its category, so a size with 3 sales does not get a 0 % or 100 % rate while
a size with thousands keeps its own. Sales that are too recent to have come back yet would bias the
rate down, so each week's sales count only in proportion to the share of the lag distribution that
has already elapsed (its "exposure").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.panel import NO_GRADE, ReturnsData
from forecasting.shrinkage import dirichlet_shrink, group_sum, hierarchical_rate

REASON_BUCKETS = ("too_small", "too_large", "other")
LAG_STRENGTH = 30.0  # pseudo-returns: a SKU needs ~30 returns before its own lag law dominates
REASON_STRENGTH = 20.0


@dataclass
class ReturnCounts:
    """Per-series aggregates of the returns table (inputs of the estimators)."""

    returned: np.ndarray          # (n,) units received back
    reasons: np.ndarray           # (n, 3) units by reason bucket
    graded: np.ndarray            # (n,) units graded A-D
    restockable: np.ndarray       # (n,) units graded A or B
    lag_counts: np.ndarray        # (n, W+1) lags of sales old enough to be fully observed
    recent_returned: np.ndarray   # (n, W) units back from sales made `age` weeks ago

    @classmethod
    def gather(cls, n: int, window: int, parts) -> ReturnCounts:
        """The counts of ``n`` series from parts counted apart, e.g. by workers that each read
        the returns of their own series: ``parts`` holds ``(rows, counts)`` pairs, ``counts``
        being those of the series ``rows`` (-1: not in the panel, left out), and no series in
        two parts (unnamed ones: none).
        """
        out = cls(returned=np.zeros(n), reasons=np.zeros((n, 3)), graded=np.zeros(n),
                  restockable=np.zeros(n), lag_counts=np.zeros((n, window + 1)),
                  recent_returned=np.zeros((n, window)))
        for rows, counts in parts:
            known = np.asarray(rows) >= 0
            for name in _COUNT_FIELDS:
                getattr(out, name)[rows[known]] = getattr(counts, name)[known]
        return out


_COUNT_FIELDS = ("returned", "reasons", "graded", "restockable", "lag_counts",
                 "recent_returned")


def count_returns(r: ReturnsData, n: int, *, last_week: int, window: int,
                  block: int = 2_000_000) -> ReturnCounts:
    """Aggregate the long returns table into per-series arrays with ``bincount``.

    The table is read in blocks of ``block`` rows so that tens of millions of returned units
    never need more than a few block-sized temporaries.
    """
    W1 = window + 1
    acc = {"returned": np.zeros(n), "reasons": np.zeros(n * 3), "graded": np.zeros(n),
           "restockable": np.zeros(n), "lag_counts": np.zeros(n * W1),
           "recent_returned": np.zeros(n * window)}
    for a in range(0, len(r.series), block):
        sl = slice(a, a + block)
        s = np.asarray(r.series[sl], np.int64)
        u = np.asarray(r.units[sl], np.float64)
        sale, reason, grade = r.sale_week[sl], r.reason[sl], r.grade[sl]
        lag = np.asarray(r.receipt_week[sl] - sale, np.int64)
        bucket = np.where(reason == 0, 0, np.where(reason == 1, 1, 2))
        graded = grade != NO_GRADE
        ok = graded & (grade <= 1)
        # Only sales whose whole window has passed give an uncensored view of the lag.
        full = (sale <= last_week - window) & (lag >= 0) & (lag <= window)
        age = last_week - np.asarray(sale, np.int64)
        recent = (age >= 0) & (age < window)
        acc["returned"] += np.bincount(s, u, n)
        acc["reasons"] += np.bincount(s * 3 + bucket, u, n * 3)
        acc["graded"] += np.bincount(s[graded], u[graded], n)
        acc["restockable"] += np.bincount(s[ok], u[ok], n)
        acc["lag_counts"] += np.bincount(s[full] * W1 + lag[full], u[full], n * W1)
        acc["recent_returned"] += np.bincount(s[recent] * window + age[recent], u[recent],
                                              n * window)
    return ReturnCounts(
        returned=acc["returned"], reasons=acc["reasons"].reshape(n, 3), graded=acc["graded"],
        restockable=acc["restockable"], lag_counts=acc["lag_counts"].reshape(n, W1),
        recent_returned=acc["recent_returned"].reshape(n, window))


def lag_pmfs(lag_counts, sku, n_sku, sku_cat, n_cat):
    """Smoothed lag distributions per category and per SKU (``(groups, W+1)`` each).

    The category law is the pooled histogram with add-half smoothing; each SKU's law is its own
    histogram shrunk toward its category with :data:`LAG_STRENGTH` pseudo-returns, so a SKU uses
    its own shape only once it has the returns to support it.
    """
    W1 = lag_counts.shape[1]
    by_sku = group_sum(lag_counts, sku, n_sku)
    by_cat = group_sum(by_sku, sku_cat, n_cat)
    glob = by_cat.sum(axis=0)
    glob = (glob + 0.5) / (glob.sum() + 0.5 * W1)
    cat = np.where(by_cat.sum(axis=1, keepdims=True) > 0,
                   (by_cat + 0.5) / (by_cat.sum(axis=1, keepdims=True) + 0.5 * W1), glob)
    return cat, dirichlet_shrink(by_sku, cat[sku_cat], LAG_STRENGTH)


def quantile_week(pmf, q=0.5):
    """Smallest lag (weeks) whose cumulative probability reaches ``q``, row-wise."""
    return (np.cumsum(pmf, axis=1) < q - 1e-12).sum(axis=1)


def median_days(pmf):
    """Median lag in days, interpolated within the weekly lag law, row-wise.

    A lag of ``k`` weeks is the difference of two week numbers, so it stands for roughly
    ``7k - 3.5`` to ``7k + 3.5`` days (``0`` to ``3.5`` for the same week). Spreading each week's
    probability evenly over its span and reading the median off that piecewise-linear CDF is
    within about a day of the true median, where the whole-week median can be up to 3.5 days off.
    """
    cdf = np.cumsum(pmf, axis=1)
    cdf = cdf / np.maximum(cdf[:, -1:], 1e-12)
    k = (cdf < 0.5 - 1e-12).sum(axis=1).clip(max=pmf.shape[1] - 1)  # week holding the median
    r = np.arange(len(pmf))
    below = np.where(k > 0, cdf[r, np.maximum(k - 1, 0)], 0.0)
    lo = np.where(k > 0, 7.0 * k - 3.5, 0.0)
    hi = 7.0 * k + 3.5
    mass = np.maximum(cdf[r, k] - below, 1e-12)
    return lo + (0.5 - below) / mass * (hi - lo)


def exposure(sales, pmf_cdf):
    """Units sold weighted by the share of their return lag already elapsed.

    ``sales`` is ``(n, T)``; ``pmf_cdf`` is ``(n, W+1)`` P(lag <= a). A unit sold ``a`` weeks before
    the last week has had the chance to come back with probability ``cdf[a]``.
    """
    _n, T = sales.shape
    W = pmf_cdf.shape[1] - 1
    total = sales.sum(axis=1, dtype=np.float64)
    k = min(W, T)
    recent = sales[:, T - k :][:, ::-1].astype(np.float64)  # column a = sold a weeks ago
    return total - recent.sum(axis=1) + (recent * pmf_cdf[:, :k]).sum(axis=1)


@dataclass
class Cohorts:
    """Units sold in each of the last ``W`` weeks and not back yet, with their return odds.

    Computed once per fit by :func:`open_cohorts`; :func:`expected_arrivals` and
    :func:`known_cohorts` (which a replan calls again with other windows) both read it.
    """

    open_units: np.ndarray   # (n, k) units sold ``a`` weeks ago and still out (column ``a``)
    not_back: np.ndarray     # (n, k) ``1 - r F(a)``: P(a unit sold ``a`` weeks ago is not back)
    rate: np.ndarray         # (n,) return probability
    pmf: np.ndarray          # (n, W+1) lag law truncated at the window
    cdf: np.ndarray          # (n, W+1) its cumulative sums
    restockable: np.ndarray  # (n,) share of returns graded A or B


def open_cohorts(*, recent_sales, recent_returned, rate, pmf, restockable) -> Cohorts:
    """The cohorts of recent sales still out (see :class:`Cohorts`).

    Args:
        recent_sales: ``(n, W)`` units sold ``a`` weeks before the last week (column ``a``).
        recent_returned: ``(n, W)`` of those units already back.
        rate: ``(n,)`` return probability; pmf: ``(n, W+1)`` lag law truncated at the window;
        restockable: ``(n,)`` share of returns graded A or B.
    """
    W = pmf.shape[1] - 1
    cdf = np.cumsum(pmf, axis=1)
    k = min(W, recent_sales.shape[1])
    open_units = np.maximum(recent_sales[:, :k] - recent_returned[:, :k], 0)
    not_back = np.maximum(1 - rate[:, None] * cdf[:, :k], 1e-9)
    return Cohorts(open_units=open_units, not_back=not_back, rate=rate, pmf=pmf, cdf=cdf,
                   restockable=restockable)


def expected_arrivals(cohorts: Cohorts, *, forecast):
    """Expected restockable returns arriving in each of the next ``H`` weeks.

    Args:
        cohorts: from :func:`open_cohorts`.
        forecast: ``(n, H)`` forecast sales for the next weeks.

    Returns:
        ``(from_past, from_forecast)``, each ``(n, H)``. A unit sold ``a`` weeks ago and not back
        yet returns in week ``h`` with probability ``r pmf[a+h] / (1 - r F(a))`` (Bayes: it might
        be a keeper or a late return); forecast sales return with ``r pmf[h-j]``.
    """
    c = cohorts
    n, H = forecast.shape
    W = c.pmf.shape[1] - 1
    past = np.zeros((n, H))
    for a in range(c.open_units.shape[1]):
        scale = c.open_units[:, a] * c.rate / c.not_back[:, a]
        for h in range(1, min(H, W - a) + 1):
            past[:, h - 1] += scale * c.pmf[:, a + h]
    fut = np.zeros((n, H))
    for lag in range(min(W, H - 1) + 1):
        fut[:, lag:] += forecast[:, : H - lag] * (c.rate * c.pmf[:, lag])[:, None]
    past *= c.restockable[:, None]  # in place: (n, H) floats are 0.1 GiB at a million rows
    fut *= c.restockable[:, None]
    return past, fut


def known_cohorts(cohorts: Cohorts, *, weeks):
    """Units sold and still out, and the mean and variance of what comes back within ``weeks``.

    A unit sold ``a`` weeks ago and not back yet returns within the next ``W`` weeks with
    ``p_a = r (F(a + W) - F(a)) / (1 - r F(a))`` and is restockable with the restockable share
    ``rho``: each is a Bernoulli(``rho p_a``) trial, so the count back from a cohort of ``m``
    units is binomial, variance ``m rho p_a (1 - rho p_a)`` (smaller than a Poisson guess,
    and it is information a return-blind planner does not use).

    Returns:
        ``(open_units, mean, var)``: ``(n, W_max)`` units still out by age, and ``(n,)`` the
        expected restockable units back within each series' ``weeks`` and their variance.
    """
    c = cohorts
    W = c.pmf.shape[1] - 1
    n = len(c.rate)
    weeks = np.asarray(weeks, np.int64)
    mean, var = np.zeros(n), np.zeros(n)
    rows = np.arange(n)
    for a in range(c.open_units.shape[1]):
        hi = np.minimum(a + weeks, W)
        p = c.rate * (c.cdf[rows, hi] - c.cdf[:, a]) / c.not_back[:, a]
        p = np.clip(p * c.restockable, 0.0, 1.0)
        mean += c.open_units[:, a] * p
        var += c.open_units[:, a] * p * (1 - p)
    return c.open_units, mean, var


def reason_split(reasons, sku, n_sku, sku_cat, n_cat, cell=None, n_cell=0):
    """Share of too_small / too_large / other among a size's returns, shrunk (Dirichlet).

    The prior of a size is the pooled mix of the same size label in its category (small sizes
    come back as too small in every SKU), itself shrunk toward the category's mix; the SKU's own
    tilt enters through the size's counts. Without size labels the prior is the SKU's mix.
    """
    by_cat = group_sum(group_sum(reasons, sku, n_sku), sku_cat, n_cat)
    cat_mix = (by_cat + 1.0) / (by_cat.sum(axis=1, keepdims=True) + 3.0)
    if cell is None:
        prior = dirichlet_shrink(group_sum(reasons, sku, n_sku), cat_mix[sku_cat],
                                 REASON_STRENGTH)[sku]
    else:
        item_cat = sku_cat[sku]
        cell_cat = np.zeros(n_cell, dtype=np.int64)
        cell_cat[cell] = item_cat
        prior = dirichlet_shrink(group_sum(reasons, cell, n_cell), cat_mix[cell_cat],
                                 REASON_STRENGTH)[cell]
    return dirichlet_shrink(reasons, prior, REASON_STRENGTH)


@dataclass
class ReturnModelFit:
    """Return estimates per series (rows of the panel) plus the group-level laws behind them."""

    rate: np.ndarray              # (n,) probability a sold unit comes back
    rate_sku: np.ndarray          # (n,) the SKU's rate the size was shrunk toward
    rate_category: np.ndarray     # (n,) the category's rate
    reason_share: np.ndarray      # (n, 3) too_small / too_large / other among returns
    restockable: np.ndarray       # (n,) share graded A or B
    lag_pmf: np.ndarray           # (n, W+1) lag law of the series' SKU
    lag_median: np.ndarray        # (n,) weeks (whole weeks: the smallest week reaching 50 %)
    lag_median_days: np.ndarray   # (n,) days, interpolated within the weekly law
    exposure: np.ndarray          # (n,) lag-weighted units sold
    returned: np.ndarray          # (n,) units returned
    counts: ReturnCounts


def fit_returns(sales, counts: ReturnCounts, *, sku, n_sku, sku_cat, n_cat, cell=None,
                n_cell=0, default_rate=0.0, default_restockable=0.8) -> ReturnModelFit:
    """Estimate every return quantity for all series at once (pure arrays in, arrays out).

    ``cell`` is each series' (category, size label) index; it lets return rates follow the
    category's size profile (see :func:`forecasting.shrinkage.hierarchical_rate`).
    """
    cat_pmf, sku_pmf = lag_pmfs(counts.lag_counts, sku, n_sku, sku_cat, n_cat)
    pmf = sku_pmf[sku]
    expo = exposure(sales, np.cumsum(cat_pmf, axis=1)[sku_cat[sku]])
    k = np.minimum(counts.returned, expo)  # a rate above 100 % is data error, not information
    rate, rate_sku, rate_cat, _, _ = hierarchical_rate(k, expo, sku, n_sku, sku_cat, n_cat,
                                                       default=default_rate, cell=cell,
                                                       n_cell=n_cell)
    rest, _, _, _, _ = hierarchical_rate(counts.restockable, counts.graded, sku, n_sku, sku_cat,
                                         n_cat, default=default_restockable)
    reason = reason_split(counts.reasons, sku, n_sku, sku_cat, n_cat, cell, n_cell)
    return ReturnModelFit(rate=rate, rate_sku=rate_sku[sku], rate_category=rate_cat[sku_cat[sku]],
                          reason_share=reason, restockable=rest, lag_pmf=pmf,
                          lag_median=quantile_week(pmf), lag_median_days=median_days(pmf),
                          exposure=expo, returned=counts.returned, counts=counts)
