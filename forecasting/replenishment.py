"""Periodic-review order-up-to replenishment, return-aware, with every term kept for explanation.

Per series with lead time L and review period R (weeks), following the base-stock logic of Snyder &
Shen, *Fundamentals of Supply Chain Theory* (2nd ed., 2019), ch. 4 (periodic review):

    S = demand over L+R - expected restockable returns arriving in L+R + safety stock
    safety stock = z(alpha) * sqrt(L+R) * sigma_week  (normal; returns' variance added)
                 = Q_alpha(D) - E[D] with D negative binomial / Poisson (intermittent demand)
    order = max(0, S - inventory position), inventory position = on hand - reserved + on order

then rounded up to the case pack and raised to the MOQ or dropped by a configurable rule. The same
arithmetic without returns gives the return-blind figure for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

MOQ_RULES = ("raise", "drop", "nearest")


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
    """

    moq_rule: str = "raise"
    moq_threshold: float = 0.5
    returns_variance: bool = True
    spread_origins: int = 13

    def __post_init__(self):
        if self.moq_rule not in MOQ_RULES:
            raise ValueError(f"moq_rule must be one of {MOQ_RULES}")


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
    over = var > mean * (1 + 1e-9)
    with np.errstate(all="ignore"):
        r = np.where(over, mean**2 / np.where(over, var - mean, 1), 1.0)
        p = np.where(over, mean / np.where(over, var, 1), 0.5)
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
    qty = np.ceil(np.maximum(raw, 0) / case - 1e-9) * case
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
                sigma_window=None,
                intermittent, on_hand, reserved, on_order, case_pack, moq, returns_past=None,
                options: ReplenishmentOptions = ReplenishmentOptions()) -> dict:
    """Order-up-to level and order quantity per series, with every term returned.

    Args:
        demand_window: expected gross demand over the protection window (L+R weeks).
        returns_window: expected restockable returns arriving in that window (0 = return-blind).
        returns_past: the part of ``returns_window`` coming from sales already made (default:
            all of it). The rest comes back from the window's own sales.
        sigma_week: one-week forecast error (standard deviation).
        sigma_window: forecast error of the whole window (:mod:`forecasting.spread`); when
            given it replaces ``sigma_week * sqrt(weeks)``, which ignores that a wrong level is
            wrong in every week of the window.
        weeks: L+R per series.
        service_level: target cycle service level per series.
        intermittent: True where the quantile method replaces the normal approximation.
        on_hand, reserved, on_order: stock position terms.
        case_pack, moq: ordering constraints.

    Returns:
        Dict of arrays: ``sigma_window, safety_stock, order_up_to, inventory_position,
        raw_order, order_qty, moq_applied``.
    """
    demand_window = np.asarray(demand_window, float)
    returns_window = np.asarray(returns_window, float)
    past = returns_window if returns_past is None else np.asarray(returns_past, float)
    if sigma_window is None:
        var_d = np.asarray(sigma_week, float) ** 2 * np.asarray(weeks, float)
    else:
        var_d = np.asarray(sigma_window, float) ** 2
    if options.returns_variance:
        # Returns of the window's own sales thin the demand: each unit sold comes back within the
        # window with probability q, so Var(D - R) = Var(D)(1-q)^2 + E[D] q (1-q). Returns of
        # past sales are independent of future demand and add their (Poisson) variance E[R].
        with np.errstate(invalid="ignore", divide="ignore"):
            q = np.clip(np.where(demand_window > 0,
                                 (returns_window - past) / demand_window, 0.0), 0.0, 1.0)
        var = var_d * (1 - q) ** 2 + demand_window * q * (1 - q) + past
    else:
        var = var_d
    ss = safety_stock_normal(np.sqrt(var), service_level)
    inter = np.flatnonzero(intermittent)  # the discrete quantile is slow: only where needed
    if inter.size:
        sl = np.broadcast_to(np.asarray(service_level, float), ss.shape)[inter]
        ss[inter] = safety_stock_quantile(np.asarray(demand_window, float)[inter], var[inter], sl)
    level = np.maximum(demand_window - returns_window + ss, 0.0)
    ip = np.asarray(on_hand, float) - np.asarray(reserved, float) + np.asarray(on_order, float)
    raw = np.maximum(level - ip, 0.0)
    qty, applied = round_order(raw, case_pack, moq, rule=options.moq_rule,
                               threshold=options.moq_threshold)
    return {"sigma_window": np.sqrt(var), "safety_stock": ss, "order_up_to": level,
            "inventory_position": ip, "raw_order": raw, "order_qty": qty, "moq_applied": applied}


def window_sum(per_week, weeks):
    """Sum of the first ``weeks[i]`` columns of row ``i`` (weeks 1..L+R of a horizon)."""
    c = np.cumsum(per_week, axis=1)
    k = np.clip(np.asarray(weeks, int), 1, per_week.shape[1]) - 1
    return np.where(np.asarray(weeks) > 0, c[np.arange(len(c)), k], 0.0)
