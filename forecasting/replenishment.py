"""Periodic-review order-up-to replenishment, return-aware, with every term kept for explanation.

Per series with lead time L and review period R (weeks), following the base-stock logic of Snyder &
Shen, *Fundamentals of Supply Chain Theory* (2nd ed., 2019), ch. 4 (periodic review):

    S = demand over L+R - expected restockable returns arriving in L+R + safety stock
    safety stock = z(alpha) * sigma_window  (normal; returns' variance added)
                 = Q_alpha(D) - E[D] with D negative binomial / Poisson (intermittent demand)
    order = max(0, S - inventory position), inventory position = on hand - reserved + on order

then rounded up to the case pack and raised to the MOQ or dropped by a configurable rule. The same
arithmetic without returns gives the return-blind figure for comparison. ``sigma_window`` is the
one spread of :mod:`forecasting.spread`. The target may be a cycle service ``alpha``, a fill rate
(the safety stock comes from the loss function) or holding and shortage costs (``alpha`` is their
critical ratio); where a fixed order cost applies the series is ordered by (r,Q) instead
(:mod:`forecasting.service`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from forecasting.lost_sales import (
    POOLED_ALPHAS,
    fill_rate_level_lost_sales,
    pooled_fill_levels,
)
from forecasting.service import (
    critical_ratio,
    eoq,
    fill_rate_level_discrete,
    fill_rate_level_normal,
    nbinom_params,
    rq_eil,
)

MOQ_RULES = ("raise", "drop", "nearest")
FILL_SCOPES = ("category", "item")


@dataclass(frozen=True)
class ReplenishmentOptions:
    """Options of the replenishment step.

    Attributes:
        moq_rule: what to do when the rounded order is positive but below the MOQ: ``raise`` it
            to the MOQ, ``drop`` it to 0, or ``nearest`` (raise if at least ``moq_threshold``
            of the MOQ, else drop).
        moq_threshold: fraction of the MOQ used by the ``nearest`` rule.
        returns_variance: add the (Poisson) variance of returns to the safety-stock variance.
        spread_origins: rolling origins whose window errors measure the demand spread
            (:mod:`forecasting.spread`).
        lost_sales: a stockout loses the sale (True, a shop) rather than backordering it; only
            fill-rate targets depend on it (see
            :func:`forecasting.service.fill_rate_level_lost_sales`).
        fill_scope: what a fill-rate target (with lost sales) is the fill of: ``category``
            (units served over units demanded across the category's series: one cycle level per
            category, the least stock for that fill, see
            :func:`forecasting.service.pooled_fill_levels`) or ``item`` (every series its own
            fill, which spends stock on slow, erratic series).
    """

    moq_rule: str = "raise"
    moq_threshold: float = 0.5
    returns_variance: bool = True
    spread_origins: int = 26
    lost_sales: bool = True
    fill_scope: str = "category"

    def __post_init__(self):
        if self.moq_rule not in MOQ_RULES:
            raise ValueError(f"moq_rule must be one of {MOQ_RULES}")
        if self.fill_scope not in FILL_SCOPES:
            raise ValueError(f"fill_scope must be one of {FILL_SCOPES}")


def z_value(service_level):
    """Standard normal quantile for a cycle service level (probability of no stockout)."""
    return stats.norm.ppf(np.clip(service_level, 1e-6, 1 - 1e-6))


def safety_stock_normal(sigma_window, service_level):
    """``z * sigma`` over the protection window (the textbook normal safety stock)."""
    return z_value(service_level) * np.asarray(sigma_window, float)


def safety_stock_quantile(mean, var, service_level):
    """Safety stock from the discrete quantile of window demand: ``Q_alpha(D) - E[D]``.

    ``D`` is negative binomial matched to ``mean`` and ``var`` when over-dispersed and Poisson
    otherwise; the normal approximation is poor for intermittent demand, which is skewed, mostly
    zero and integer. ``Q_alpha`` is the smallest integer with ``P(D <= Q) >= alpha``.
    """
    mean = np.maximum(np.asarray(mean, float), 1e-9)
    var = np.asarray(var, float)
    sl = np.clip(service_level, 1e-6, 1 - 1e-6)
    over, r, p = nbinom_params(mean, var)
    with np.errstate(all="ignore"):
        q_nb = stats.nbinom.ppf(sl, r, p)
    q_po = stats.poisson.ppf(sl, mean)
    q = np.where(over, q_nb, q_po)
    return np.nan_to_num(q, nan=0.0) - mean


def round_order(raw, case_pack, moq, *, rule="raise", threshold=0.5):
    """Round a raw order up to the case pack, then apply the MOQ rule.

    Returns ``(quantity, moq_applied)`` where ``moq_applied`` is +1 raised, -1 dropped, 0 untouched.
    """
    case = np.maximum(np.asarray(case_pack, float), 1)
    moq = np.asarray(moq, float)
    # + 0.0: ceil of a tiny negative is -0.0, which the explanation would print as "order -0".
    qty = np.ceil(np.maximum(raw, 0) / case - 1e-9) * case + 0.0
    below = (qty > 0) & (qty < moq)
    moq_up = np.ceil(moq / case - 1e-9) * case
    if rule == "raise":
        up = below
    elif rule == "drop":
        up = np.zeros_like(below)
    else:
        up = below & (qty >= threshold * moq)
    out = np.where(below, np.where(up, moq_up, 0.0), qty)
    return out, np.where(below, np.where(up, 1, -1), 0).astype(np.int8)


def order_up_to(*, demand_window, returns_window, sigma_week, weeks, service_level,
                intermittent, on_hand, reserved, on_order, case_pack, moq, sigma_window=None,
                returns_past=None, returns_past_var=None, review=1, target=None, holding=None,
                shortage=None, order_cost=None, group=None, return_odds=None,
                return_lag_pmf=None, quantile=None,
                options: ReplenishmentOptions = ReplenishmentOptions()) -> dict:
    """Order-up-to level (or (r,Q) reorder point and lot) and order quantity, every term kept.

    Args:
        demand_window: expected gross demand over the protection window (L+R weeks).
        returns_window: expected restockable returns arriving in that window (0 = return-blind).
        returns_past: the part of ``returns_window`` coming from sales already made (default:
            all of it). The rest comes back from the window's own sales.
        returns_past_var: variance of ``returns_past`` (default: its mean, Poisson).
        sigma_week: one-week forecast error (standard deviation).
        sigma_window: forecast error of the whole window (:mod:`forecasting.spread`); when
            given it replaces ``sigma_week * sqrt(weeks)``, which ignores that a wrong level is
            wrong in every week of the window.
        weeks: L+R per series; review: R per series.
        service_level: the target's level per series (cycle service or fill rate).
        target: ``cycle`` / ``fill`` / ``cost`` per series (default ``cycle``), see
            :mod:`forecasting.service`; holding, shortage: costs per unit and week.
        order_cost: fixed cost per order; with a holding cost it switches the series to (r,Q).
        group: the category code per series whose pooled fill a ``fill`` target is, with
            ``options.fill_scope == "category"`` (default: all series one group).
        return_odds, return_lag_pmf: probability a unit sold comes back restockable, and the
            lag law (``(n, W+1)``); a fill target with lost sales then simulates the returns
            from the units sold (default: a stream of ``returns_window``).
        intermittent: True where discrete (Poisson / negative binomial) demand replaces normal.
        quantile: computes :func:`safety_stock_quantile` for those rows (default: it, here); the
            planner spreads it over its workers, as it costs most of this step.
        on_hand, reserved, on_order: stock position terms.
        case_pack, moq: ordering constraints.

    Returns:
        Dict of arrays: ``sigma_window, safety_stock, order_up_to`` (the reorder point ``r``
        under (r,Q)), ``inventory_position, raw_order, order_qty, moq_applied, cycle_level``
        (the cycle service the target works out to: the critical ratio for cost, the
        category's common level for a pooled fill; NaN for a fill per item), ``policy``
        (``order_up_to`` or ``rQ``), ``order_lot`` (``Q``, 0 for order-up-to), ``service_target``.
    """
    demand_window = np.asarray(demand_window, float)
    returns_window = np.asarray(returns_window, float)
    shape = np.broadcast(demand_window, returns_window).shape
    past = returns_window if returns_past is None else np.asarray(returns_past, float)
    if sigma_window is None:
        var_d = np.asarray(sigma_week, float) ** 2 * np.asarray(weeks, float)
    else:
        var_d = np.asarray(sigma_window, float) ** 2
    past_var = past if returns_past_var is None else np.asarray(returns_past_var, float)
    if options.returns_variance:
        # Returns of the window's own sales thin the demand: each unit sold comes back within the
        # window with probability q, so Var(D - R) = Var(D)(1-q)^2 + E[D] q (1-q). Returns of
        # past sales are independent of future demand and add their own variance.
        with np.errstate(invalid="ignore", divide="ignore"):
            q = np.clip(np.where(demand_window > 0,
                                 (returns_window - past) / demand_window, 0.0), 0.0, 1.0)
        var = var_d * (1 - q) ** 2 + demand_window * q * (1 - q) + past_var
    else:
        var = var_d
    var = np.broadcast_to(var, shape).astype(float)

    def full(v, default):
        return np.broadcast_to(np.asarray(default if v is None else v), shape)

    kind = full(target, "cycle").astype(str)
    h, p, k_fix = full(holding, 0.0), full(shortage, 0.0), full(order_cost, 0.0)
    sl = full(service_level, 0.95).astype(float)
    w = np.maximum(full(weeks, 1).astype(float), 1.0)
    cycle_w = np.minimum(full(review, 1).astype(float), w) * demand_window / w
    alpha = np.where(kind == "cost", critical_ratio(h, p), sl)
    fill = kind == "fill"
    net = np.broadcast_to(demand_window - returns_window, shape)
    sigma = np.sqrt(var)
    lead_share = (w - np.minimum(full(review, 1).astype(float), w)) / w
    ss = np.where(fill, 0.0, safety_stock_normal(sigma, alpha))
    # The count a discrete quantile is taken of: the window's sales that stay sold (its own
    # returns thinned out), never negative; returns of past sales then lower the level as a
    # known amount (with their variance in ``var``). Taking it of gross sales would give a slow
    # mover the spread of its gross demand (Poisson: variance = mean) and lose the thinning.
    kept = np.broadcast_to(np.maximum(demand_window - (returns_window - past), 0.0), shape)
    inter = np.broadcast_to(np.asarray(intermittent, bool), shape)
    quantile = quantile or safety_stock_quantile
    rows = np.flatnonzero(fill)
    alpha = alpha.astype(float).copy()
    alpha[fill] = np.nan
    if rows.size and options.lost_sales:
        def at(v):
            return np.broadcast_to(v, shape)[rows]

        ss[rows], alpha[rows] = _lost_sales_fill(
            mean=at(demand_window), kept=kept[rows], var_gross=at(var_d),
            inflow=at(returns_window),
            net=net[rows], sigma=sigma[rows], var=var[rows], weeks=w[rows], fill=sl[rows],
            discrete=inter[rows], group=at(0 if group is None else group),
            from_sales=_returns_from_sales(return_odds, return_lag_pmf, past, at, rows),
            scope=options.fill_scope, quantile=quantile)
    backorder = fill & (not options.lost_sales)
    rows = np.flatnonzero(backorder & ~inter)
    if rows.size:
        s_f = fill_rate_level_normal(net[rows], sigma[rows], cycle_w[rows], sl[rows],
                                     mean_lead=net[rows] * lead_share[rows],
                                     sigma_lead=sigma[rows] * np.sqrt(lead_share[rows]))
        ss[rows] = s_f - net[rows]
    rows = np.flatnonzero(inter & ~fill)  # the discrete quantile is slow: only where needed
    if rows.size:
        ss[rows] = quantile(kept[rows], var[rows], alpha[rows])
    rows = np.flatnonzero(inter & backorder)
    if rows.size:
        ss[rows] = fill_rate_level_discrete(
            kept[rows], var[rows], cycle_w[rows], sl[rows], mean_lead=kept[rows] * lead_share[rows],
            var_lead=var[rows] * lead_share[rows]) - kept[rows]
    level = np.maximum(net + ss, 0.0)
    ip = np.asarray(on_hand, float) - np.asarray(reserved, float) + np.asarray(on_order, float)
    raw = np.maximum(level - ip, 0.0)
    qty, applied = round_order(raw, case_pack, moq, rule=options.moq_rule,
                               threshold=options.moq_threshold)
    lot = np.zeros(shape)
    rq = (k_fix > 0) & (h > 0)
    if rq.any():
        r, lot_rq, n_lots = _reorder_point_and_lot(
            rq, kind=kind, h=h, p=p, k_fix=k_fix, net=net, sigma=sigma, level=level, sl=sl,
            w=w, ip=np.broadcast_to(ip, shape), case_pack=np.broadcast_to(case_pack, shape),
            moq=np.broadcast_to(moq, shape))
        level = np.where(rq, r, level)
        lot = np.where(rq, lot_rq, 0.0)
        raw = np.where(rq, n_lots * lot_rq, raw)
        qty = np.where(rq, n_lots * lot_rq, qty)
        applied = np.where(rq, 0, applied).astype(np.int8)
        ss = np.where(rq, r - net, ss)
    return {"sigma_window": sigma, "safety_stock": ss, "order_up_to": level,
            "inventory_position": np.broadcast_to(ip, shape).astype(float), "raw_order": raw,
            "order_qty": qty, "moq_applied": applied,
            "cycle_level": alpha, "service_target": kind,
            "policy": np.where(rq, "rQ", "order_up_to"), "order_lot": lot}


def _returns_from_sales(odds, lag_pmf, past, at, rows):
    """The fill simulation's ``returns_from_sales`` for ``rows`` (None without return odds)."""
    if odds is None:
        return None
    return at(odds), np.asarray(lag_pmf, float)[rows], at(past)


def _lost_sales_fill(*, mean, kept, var_gross, inflow, net, sigma, var, weeks, fill, discrete,
                     group, from_sales, scope, quantile=safety_stock_quantile):
    """``(safety stock, cycle level)`` of fill-target rows when a stockout loses the sale.

    Gross demand with its own spread is simulated; returns come back from the simulated sales
    where ``from_sales`` gives their odds and lags (returns thin sales, which narrows net
    demand), else as a Poisson stream of the expected returns onto the shelf. ``category``
    scope: each series' level at every candidate cycle level, then the category's pooled fill
    picks one cycle level for all of them; ``item``: each series its own fill (no cycle level).
    """
    if scope == "item":
        level = fill_rate_level_lost_sales(mean, var_gross, weeks, fill, discrete=discrete,
                                           inflow=inflow, returns_from_sales=from_sales)
        return level - net, np.full(len(net), np.nan)
    grid = np.stack([net + _cycle_safety_stock(kept, sigma, var, discrete, a, quantile)
                     for a in POOLED_ALPHAS], axis=1)
    level, alpha = pooled_fill_levels(np.maximum(grid, 0.0), mean, var_gross, weeks, fill,
                                      group, discrete=discrete, inflow=inflow,
                                      returns_from_sales=from_sales)
    return np.where(discrete, np.round(level), level) - net, alpha


def _cycle_safety_stock(mean, sigma, var, intermittent, alpha, quantile=safety_stock_quantile):
    """Safety stock at cycle level ``alpha``: ``z sigma``, or the discrete quantile where
    ``intermittent`` (as a cycle target computes it)."""
    ss = safety_stock_normal(sigma, alpha)
    rows = np.flatnonzero(intermittent)
    if rows.size:
        ss[rows] = quantile(mean[rows], var[rows], np.full(rows.size, alpha))
    return ss


def _reorder_point_and_lot(rq, *, kind, h, p, k_fix, net, sigma, level, sl, w, ip, case_pack,
                           moq):
    """(r,Q) where a fixed order cost makes lots worth batching.

    ``Q`` is the EOQ on weekly net demand, or with a cost target the EIL optimum jointly with
    ``r``; a fill target allows ``(1 - beta) Q`` short per order cycle; a cycle target keeps the
    order-up-to quantile as ``r``. ``Q`` is rounded up to the case pack and raised to the MOQ;
    when the inventory position is at or below ``r`` the order is the fewest lots that lift it
    above ``r``.
    """
    lam = np.maximum(net / w, 1e-9)
    q = eoq(k_fix, lam, np.where(rq, h, 1.0))
    r = level.copy()
    cost = rq & (kind == "cost")
    if cost.any():
        r_c, q_c = rq_eil(h[cost], p[cost], k_fix[cost], lam[cost], net[cost], sigma[cost])
        r[cost], q[cost] = r_c, q_c
    fill = rq & (kind == "fill")
    if fill.any():
        r[fill] = fill_rate_level_normal(net[fill], sigma[fill], q[fill], sl[fill])
    case = np.maximum(np.asarray(case_pack, float), 1)
    q = np.maximum(np.ceil(np.maximum(q, 1) / case - 1e-9) * case,
                   np.ceil(np.asarray(moq, float) / case - 1e-9) * case)
    r = np.maximum(r, 0.0)
    n_lots = np.where(ip <= r, np.floor((r - ip) / q) + 1, 0.0)
    return r, q, n_lots


def window_sum(per_week, weeks):
    """Sum of the first ``weeks[i]`` columns of row ``i`` (weeks 1..L+R of a horizon)."""
    c = np.cumsum(per_week, axis=1)
    k = np.clip(np.asarray(weeks, int), 1, per_week.shape[1]) - 1
    return np.where(np.asarray(weeks) > 0, c[np.arange(len(c)), k], 0.0)
