"""Service targets and (r,Q): loss functions, fill rate, critical ratio, EOQ and the EIL method.

Notation and formulas follow L. V. Snyder and Z.-J. M. Shen, *Fundamentals of Supply Chain
Theory*, 2nd ed., Wiley, 2019, ch. 4 (newsvendor and base-stock: critical ratio ``p / (p + h)``)
and ch. 5 ((r,Q): expected cost (5.7), the expected-inventory-level (EIL) approximation; type-2
service through the loss function ``n(r) = sigma L(z)``).

Three service targets, per series:

* ``cycle``: probability of no stockout in a review cycle (the quantile of window demand);
* ``fill``: share of demand served from stock (type 2). The expected shortage per review cycle
  is held at ``(1 - beta)`` times the cycle's demand: ``n(S over L+R) - n(S over L)`` for
  order-up-to (the second term is the shortage carried in from the previous cycle), ``n(r)``
  per order of ``Q`` for (r,Q); normal loss for smooth demand, Poisson / negative binomial loss
  for slow movers;
* ``cost``: holding ``h`` and shortage ``p`` per unit and week give the critical ratio
  ``p / (p + h)``, used as the cycle level (or the EIL (r,Q) when there is a fixed order cost).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

TARGET_KINDS = ("cycle", "fill", "cost")


def normal_loss(z):
    """Standard normal first-order loss ``L(z) = E[(Z - z)^+] = phi(z) - z (1 - Phi(z))``."""
    z = np.asarray(z, float)
    return stats.norm.pdf(z) - z * stats.norm.sf(z)


def normal_loss2(z):
    """Second-order loss ``L2(z) = E[((Z - z)^+)^2] / 2`` (integral of ``L`` from ``z`` up)."""
    z = np.asarray(z, float)
    return 0.5 * ((z * z + 1) * stats.norm.sf(z) - z * stats.norm.pdf(z))


def critical_ratio(holding, shortage):
    """``p / (p + h)``: the newsvendor fractile, the cycle level a cost target implies."""
    h, p = np.asarray(holding, float), np.asarray(shortage, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(h + p > 0, p / np.where(h + p > 0, h + p, 1), 0.5)


def _solve_z(target, fn, lo=-4.0, hi=6.0, iters=60):
    """Vectorised bisection for the ``z`` with ``fn(z) = target`` (``fn`` decreasing in ``z``)."""
    target = np.asarray(target, float)
    a = np.full(target.shape, lo)
    b = np.full(target.shape, hi)
    for _ in range(iters):
        m = (a + b) / 2
        big = fn(m) > target
        a = np.where(big, m, a)
        b = np.where(big, b, m)
    return (a + b) / 2


def fill_rate_level_normal(mean_window, sigma_window, mean_cycle, fill, *, mean_lead=None,
                           sigma_lead=None):
    """Order-up-to level ``S`` whose expected shortage per cycle is ``(1 - fill) * mean_cycle``.

    ``n_W(S) - n_L(S)`` with ``n_X(S) = sigma_X L((S - mu_X) / sigma_X)``, W the L+R window and
    L the lead time alone; without lead-time terms only ``n_W(S)`` (the textbook base-stock case).
    """
    mw, sw = np.asarray(mean_window, float), np.maximum(np.asarray(sigma_window, float), 1e-9)
    allowed = (1 - np.asarray(fill, float)) * np.maximum(np.asarray(mean_cycle, float), 0)
    if mean_lead is None:
        def shortage(z):
            return sw * normal_loss(z)
    else:
        ml = np.asarray(mean_lead, float)
        sl = np.maximum(np.asarray(sigma_lead, float), 1e-9)

        def shortage(z):
            s = mw + z * sw
            return sw * normal_loss(z) - sl * normal_loss((s - ml) / sl)
    z = _solve_z(np.maximum(allowed, 1e-12), shortage)
    return mw + z * sw


def nbinom_params(mean, var):
    """Moment-matched negative binomial ``(over, r, p)``: ``over`` marks over-dispersed rows
    (variance above the mean); elsewhere ``r``, ``p`` are placeholders and Poisson applies."""
    over = var > mean * (1 + 1e-9)
    with np.errstate(all="ignore"):
        r = np.where(over, mean**2 / np.where(over, var - mean, 1), 1.0)
        p = np.where(over, mean / np.where(over, var, 1), 0.5)
    return over, r, p


def _discrete_pmf(mean, var, smax):
    """``(n, smax + 1)`` pmf of a negative binomial (over-dispersed) or Poisson window demand."""
    mean = np.maximum(np.asarray(mean, float), 1e-9)[:, None]
    var = np.asarray(var, float)[:, None]
    k = np.arange(smax + 1)[None, :]
    over, r, p = nbinom_params(mean, var)
    with np.errstate(all="ignore"):
        pmf = np.where(over, stats.nbinom.pmf(k, r, p), stats.poisson.pmf(k, mean))
    return np.nan_to_num(pmf)


def discrete_loss(mean, var, smax):
    """``(n, smax + 1)`` expected shortage ``E[(D - s)^+]`` for ``s = 0..smax``."""
    mean = np.asarray(mean, float)
    pmf = _discrete_pmf(mean, var, smax)
    cdf = np.cumsum(pmf, axis=1)
    # E[(D - s)^+] = mean - s + E[(s - D)^+], and E[(s - D)^+] = sum_{j < s} F(j).
    below = np.concatenate([np.zeros((len(pmf), 1)), np.cumsum(cdf, axis=1)[:, :-1]], axis=1)
    return np.maximum(mean[:, None] - np.arange(smax + 1)[None, :] + below, 0.0)


def fill_rate_level_discrete(mean_window, var_window, mean_cycle, fill, *, mean_lead=None,
                             var_lead=None):
    """Smallest integer ``S`` with expected shortage per cycle at most ``(1 - fill) mean_cycle``.

    Demand over the window is negative binomial when over-dispersed, Poisson otherwise (slow
    movers are integer and skewed: the normal loss misjudges them).
    """
    mw = np.maximum(np.asarray(mean_window, float), 0)
    vw = np.asarray(var_window, float)
    sd = np.sqrt(np.maximum(vw, mw))
    smax = int(np.ceil(np.max(mw + 8 * sd + 5, initial=5)))
    short = discrete_loss(mw, vw, smax)
    if mean_lead is not None:
        short = short - discrete_loss(np.asarray(mean_lead, float), var_lead, smax)
    allowed = (1 - np.asarray(fill, float)) * np.maximum(np.asarray(mean_cycle, float), 0)
    ok = short <= allowed[:, None] + 1e-12
    return np.where(ok.any(axis=1), ok.argmax(axis=1), smax).astype(float)


def eoq(fixed_cost, demand_rate, holding):
    """Economic order quantity ``sqrt(2 K lambda / h)`` (0 where there is no fixed cost)."""
    k, lam, h = (np.asarray(a, float) for a in (fixed_cost, demand_rate, holding))
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.sqrt(2 * k * lam / np.where(h > 0, h, np.nan))
    return np.nan_to_num(q, nan=0.0)


def rq_eil(holding, shortage, fixed_cost, demand_rate, mean_lead, sigma_lead, *, iters=100,
           tol=1e-8):
    """(r,Q) by the expected-inventory-level approximation (S&S section 5.2.3), vectorised.

    Iterates ``Q = sqrt(2 lambda (K + p n(r)) / h)`` and ``r = F^-1(1 - Q h / (p lambda))``
    from ``Q = EOQ`` until both settle. Units: ``h, p`` per unit and time, ``lambda`` units per
    the same time, lead-time demand ``N(mean_lead, sigma_lead^2)``.

    Returns ``(r, Q)``.
    """
    h, p, k, lam = (np.asarray(a, float) for a in (holding, shortage, fixed_cost, demand_rate))
    mu, sd = np.asarray(mean_lead, float), np.maximum(np.asarray(sigma_lead, float), 1e-12)
    q = eoq(k, lam, h)
    r = mu.copy()
    for _ in range(iters):
        frac = np.clip(1 - q * h / np.maximum(p * lam, 1e-12), 1e-9, 1 - 1e-12)
        r_new = mu + sd * stats.norm.ppf(frac)
        n_r = sd * normal_loss((r_new - mu) / sd)
        q_new = np.sqrt(2 * lam * (k + p * n_r) / np.maximum(h, 1e-12))
        done = np.all(np.abs(q_new - q) < tol) and np.all(np.abs(r_new - r) < tol)
        q, r = q_new, r_new
        if done:
            break
    return r, q


def rq_cost(r, q, holding, shortage, fixed_cost, demand_rate, mean_lead, sigma_lead):
    """Expected cost per time of (r,Q) with normal lead-time demand, S&S (5.7), exact.

    ``g(r, Q) = (K lambda + integral_r^{r+Q} [h (y - mu) + (h + p) n(y)] dy) / Q`` with the
    integral of ``n`` in closed form through the second-order loss function.
    """
    h, p, k, lam = holding, shortage, fixed_cost, demand_rate
    mu, sd = mean_lead, sigma_lead
    hold = h * (q * (r - mu) + q * q / 2)
    short = (h + p) * sd * sd * (normal_loss2((r - mu) / sd) - normal_loss2((r + q - mu) / sd))
    return (k * lam + hold + short) / q


def rq_exact(holding, shortage, fixed_cost, demand_rate, mean_lead, sigma_lead):
    """(r,Q) minimising :func:`rq_cost` (one item; started from the EIL answer).

    Returns ``(r, Q, cost)``.
    """
    r0, q0 = rq_eil(holding, shortage, fixed_cost, demand_rate, mean_lead, sigma_lead)
    args = (holding, shortage, fixed_cost, demand_rate, mean_lead, sigma_lead)

    def cost(x):
        return rq_cost(x[0], max(x[1], 1e-9), *args)

    res = optimize.minimize(cost, [float(r0), float(q0)], method="Nelder-Mead",
                            options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 4000})
    return float(res.x[0]), float(res.x[1]), float(res.fun)


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
