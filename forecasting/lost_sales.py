"""Fill-rate levels when a stockout loses the sale: simulated, per series or pooled per category.

The loss-function formulas of :mod:`forecasting.service` assume backorders. A shop loses the
sale instead, and no closed form exists, so each series' periodic-review system is simulated
week by week (:func:`simulate_lost_sales`) and the level read off the simulated fill curve, for
each series (:func:`fill_rate_level_lost_sales`) or for a category's pooled fill with one cycle
level for all its series (:func:`pooled_fill_levels`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from forecasting.service import fill_rate_level_normal, nbinom_params


def fill_rate_level_lost_sales(mean_window, var_window, weeks, fill, *, discrete=None,
                               inflow=None, returns_from_sales=None, periods: int = 800,
                               warmup: int = 20, levels: int = 12, seed: int = 0):
    """Order-up-to level reaching fill rate ``fill`` when unmet demand is lost, per series.

    The loss-function formulas assume backorders: a shortage waits for the next delivery and
    eats into the next cycle. When a stockout loses the sale instead (a web shop's customer
    buys elsewhere), the same level serves noticeably more: at a 90 % backorder fill the
    lost-sales fill is about 94-95 %. No closed form exists, so each series' periodic-review
    system is simulated week by week (weeks = L+R, one order a week, lead time ``weeks - 1``)
    with common random numbers for a grid of levels up to the backorder level (always enough),
    and the level is read off the achieved-fill curve by interpolation. Weekly demand has the
    window's mean and variance divided by the weeks; ``discrete`` rows draw negative binomial
    (Poisson) units. The demand of one week is shared by all candidate levels. ``inflow`` is
    the expected restockable returns over the window: they arrive as their own Poisson stream
    onto the shelf (returns refill stock between deliveries; netting them out of demand would
    need a negative demand the count distributions cannot draw), and the level is then the
    order-up-to level against the inventory position without them. ``returns_from_sales``
    makes them come from the simulated sales instead (see :func:`simulate_lost_sales`).

    Returns:
        ``(n,)`` levels, deterministic for a given ``seed``.
    """
    mw = np.maximum(np.asarray(mean_window, float), 0.0)
    vw = np.maximum(np.asarray(var_window, float), 0.0)
    w = np.maximum(np.asarray(weeks, np.int64), 1)
    beta = np.broadcast_to(np.asarray(fill, float), mw.shape)
    n = len(mw)
    disc = np.zeros(n, bool) if discrete is None else np.asarray(discrete, bool)
    back = np.zeros(n) if inflow is None else np.maximum(np.asarray(inflow, float), 0)
    hi = fill_rate_level_normal(mw, np.sqrt(np.maximum(vw, 1e-12)), mw / w, beta)
    hi = np.maximum(hi, mw + 3 * np.sqrt(vw) + 1)
    lo = np.maximum(mw - back - 2.5 * np.sqrt(vw + back), 0.0)
    # All candidate levels at once (n, levels): one pass, and with common random numbers the
    # achieved fill is smooth and increasing in the level, so it can be interpolated.
    s = lo[:, None] + (hi - lo)[:, None] * np.linspace(0, 1, levels)[None, :]
    served, total, _ = simulate_lost_sales(mw, vw, w, s, discrete=disc, inflow=back,
                                           returns_from_sales=returns_from_sales,
                                           periods=periods, warmup=warmup, seed=seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        achieved = np.where(total[:, None] > 0, served / total[:, None], 1.0)
    achieved = np.maximum.accumulate(achieved, axis=1)
    out = np.empty(n)
    for i in range(n):  # interpolate each series' fill curve at its target
        out[i] = np.interp(beta[i], achieved[i], s[i]) if achieved[i, -1] >= beta[i] else hi[i]
    # Integer demand is ordered in whole units up to a whole level: the nearest one keeps the
    # fill of many slow movers on target on average (always rounding up would overshoot it).
    return np.where(disc, np.round(out), out)


def simulate_lost_sales(mean_window, var_window, weeks, levels, *, discrete=None, inflow=None,
                        returns_from_sales=None, periods: int = 800, warmup: int = 20,
                        seed: int = 0):
    """Units served and demanded when each series orders up to each of its ``levels``.

    A periodic-review system per series (one order a week, lead time ``weeks - 1``, unmet
    demand lost) run for ``periods`` weeks after ``warmup``, with the same demand and returns
    for every level of a series (common random numbers). Weekly demand has the window's mean
    and variance divided by the weeks (normal, or negative binomial / Poisson where
    ``discrete``); ``inflow``, the expected restockable returns over the window, arrives as a
    Poisson stream onto the shelf.

    ``returns_from_sales = (odds, lag_pmf, past)`` replaces that stream by returns of the units
    the simulation sells: each comes back restockable with probability ``odds`` after a lag
    drawn from ``lag_pmf`` (``(n, W+1)``; lag 0 lands the next week), Poisson around the
    expected count. Returns are a thinning of sales, so they narrow net demand; an
    independent stream on top of gross demand would widen it. The policy then behaves as the
    return-aware planner does: it knows what is still out, so it orders up to
    ``level + past - (restockable units expected back within the window)``, ``past`` being
    what the planner expected from its own cohorts when it computed the level.

    Returns:
        ``(served, demand, on_hand)``: ``(n, k)`` units served per level of ``levels``
        (``(n, k)``), ``(n,)`` units demanded, and ``(n, k)`` the average stock on hand at the
        end of a week.
    """
    mw = np.maximum(np.asarray(mean_window, float), 0.0)
    vw = np.maximum(np.asarray(var_window, float), 0.0)
    w = np.maximum(np.asarray(weeks, np.int64), 1)
    s = np.asarray(levels, float)
    n, k = s.shape
    disc = np.zeros(n, bool) if discrete is None else np.asarray(discrete, bool)
    mu, var = mw / w, vw / w
    rng = np.random.default_rng(seed)
    sd = np.sqrt(var)
    m_d, v_d = np.maximum(mu[disc], 1e-9), var[disc]
    over, r_nb, p_nb = nbinom_params(m_d, v_d)
    back = np.zeros(n) if inflow is None else np.maximum(np.asarray(inflow, float), 0) / w

    if returns_from_sales is not None:
        odds, lag_pmf, past = (np.asarray(a, float) for a in returns_from_sales)
        back = np.zeros(n)  # the returns come from the simulated sales instead
        per_lag = odds[:, None] * lag_pmf  # (n, lags): a unit sold comes back after lag j
        per_lag[:, 1] += per_lag[:, 0]  # a return the same week is back on the shelf next week
        per_lag = per_lag[:, 1:]
        m = int(np.flatnonzero(per_lag.max(axis=0, initial=0) > 1e-12).max(initial=0)) + 1
        per_lag = np.ascontiguousarray(per_lag[:, None, :m])
        # expected restockable returns arriving 1..m weeks after the current week
        due = np.zeros((n, k, m))
        inside = (np.arange(1, m + 1)[None, :] <= w[:, None]).astype(float)  # within L+R

    def draw():
        """One week's demand and returns of every series (the same for all levels)."""
        d = np.maximum(rng.standard_normal(n) * sd + mu, 0.0)
        if disc.any():
            d[disc] = np.where(over, rng.negative_binomial(r_nb, p_nb), rng.poisson(m_d))
        return d, rng.poisson(back).astype(float)

    lead = w - 1
    lmax = int(lead.max(initial=0))
    on_hand = s.copy()
    pipe = np.zeros((n, k, lmax + 2))
    on_order = np.zeros((n, k))
    served = np.zeros((n, k))
    held = np.zeros((n, k))
    total = np.zeros(n)
    slot = lead + 1
    rows = np.arange(n)
    for t in range(periods):
        j = t % (lmax + 2)
        on_hand += pipe[:, :, j]
        on_order -= pipe[:, :, j]
        pipe[:, :, j] = 0.0
        d, r = draw()
        on_hand += r[:, None]
        target = s
        if returns_from_sales is not None:
            # Poisson-like noise around the expected count, one draw per series for all levels
            # (common random numbers, and far cheaper than a Poisson draw per level)
            now = due[:, :, 0]
            on_hand += np.maximum(now + np.sqrt(now) * rng.standard_normal((n, 1)), 0.0)
            due[:, :, :-1] = due[:, :, 1:]
            due[:, :, -1] = 0.0
        sold = np.minimum(on_hand, d[:, None])
        on_hand -= sold
        if t >= warmup:
            served += sold
            total += d
            held += on_hand
        if returns_from_sales is not None:
            due += sold[:, :, None] * per_lag
            target = s + past[:, None] - np.einsum("nkl,nl->nk", due, inside)
        q = np.maximum(target - on_hand - on_order, 0.0)
        pipe[rows, :, (t + slot) % (lmax + 2)] += q
        on_order += q
    return served, total, held / max(periods - warmup, 1)


# Cycle levels a pooled fill target chooses among (z from -1 to 3.7).
POOLED_ALPHAS = stats.norm.cdf(np.linspace(-1.0, 3.7, 24))


def pooled_fill_levels(level_of_alpha, mean_window, var_window, weeks, fill, group, *,
                       discrete=None, inflow=None, returns_from_sales=None,
                       periods: int = 800, seed: int = 0):
    """Levels meeting each group's fill rate (units served over units demanded, all its series
    together) with the least stock: one cycle level per group.

    Holding a unit costs about the same wherever it sits, and a lost unit counts the same in a
    category's fill, so the cheapest allocation gives every series the same marginal ratio of
    stockout probability to holding: a common critical ratio, i.e. a common cycle service level
    (Lagrangian relaxation of "minimise stock subject to the pooled fill"). Equalising the fill
    of every series instead buys fill on slow, erratic series where it is dearest.

    Args:
        level_of_alpha: ``(n, k)`` each series' order-up-to level at the cycle levels
            :data:`POOLED_ALPHAS` (nondecreasing along ``k``).
        mean_window, var_window, weeks, discrete, inflow, returns_from_sales: as
            :func:`simulate_lost_sales` (the group's fill is simulated with lost sales).
        fill: ``(n,)`` the group's target (the first series' value counts per group).
        group: ``(n,)`` group code (e.g. category).

    Returns:
        ``(levels, alpha)``: ``(n,)`` order-up-to levels and the common cycle level behind them.
    """
    s = np.maximum.accumulate(np.asarray(level_of_alpha, float), axis=1)
    n, k = s.shape
    served, total, _ = simulate_lost_sales(mean_window, var_window, weeks, s,
                                           discrete=discrete, inflow=inflow,
                                           returns_from_sales=returns_from_sales,
                                           periods=periods, seed=seed)
    group = np.asarray(group)
    beta = np.broadcast_to(np.asarray(fill, float), (n,))
    levels, alpha = np.empty(n), np.empty(n)
    grid = np.arange(k, dtype=float)
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        demand = total[rows].sum()
        got = served[rows].sum(axis=0) / demand if demand > 0 else np.ones(k)
        got = np.maximum.accumulate(got)
        b = beta[rows[0]]
        # fractional position on the alpha grid where the pooled fill reaches the target
        x = float(np.interp(b, got, grid)) if got[-1] >= b else float(k - 1)
        lo = int(np.floor(x))
        hi = min(lo + 1, k - 1)
        f = x - lo
        levels[rows] = (1 - f) * s[rows, lo] + f * s[rows, hi]
        alpha[rows] = (1 - f) * POOLED_ALPHAS[lo] + f * POOLED_ALPHAS[hi]
    return levels, alpha
