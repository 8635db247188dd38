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
  for slow movers (these assume backorders; a shop that loses the sale is simulated in
  :mod:`forecasting.lost_sales`);
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
