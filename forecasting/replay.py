"""An honest inventory replay: policies over a grid of targets, compared at equal achieved fill.

Each week of the holdout every policy receives what it ordered and the restockable returns of
units it actually sold, serves the actual demand (the rest is lost, and a lost sale never comes
back as a return), and on review weeks orders up to its level. Comparing two policies at the same
*target* rewards whichever overshoots; the report therefore also reads each policy's stock at the
same *achieved* fill rate off its stock-versus-fill curve (linear interpolation between targets).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from forecasting.panel import NO_GRADE, ItemParams, ReturnsData, SalesPanel
from forecasting.pipeline import Planner
from forecasting.replenishment import ReplenishmentOptions, round_order


@dataclass
class ReplayReport:
    """Replay figures per policy and target.

    Attributes:
        curves: policy (``return_aware``, ``return_blind`` and each oracle's name) -> one dict
            per target
            with ``target, fill_rate, cycle_service`` (share of series-weeks without a lost
            sale), ``avg_on_hand, units_ordered, n_orders, lost_sales, returns_received``
            (restockable units back on the shelf) and ``demand``.
        targets, target_kind: the grid and what it targets (``cycle``/``fill``/``cost``; None =
            each item's own kind).
    """

    curves: dict
    weeks: int
    n_series: int
    targets: tuple
    target_kind: str | None

    def to_records(self) -> list[dict]:
        return [{"policy": p, **row} for p, rows in self.curves.items() for row in rows]

    def at_target(self, policy: str, target: float) -> dict:
        """The row of ``policy`` whose target is closest to ``target``."""
        rows = self.curves[policy]
        return min(rows, key=lambda r: abs(r["target"] - target))

    @property
    def aware(self) -> dict:
        return self.at_target("return_aware", self.targets[len(self.targets) // 2])

    @property
    def blind(self) -> dict:
        return self.at_target("return_blind", self.targets[len(self.targets) // 2])

    def stock_at_fill(self, policy: str, fill: float) -> float:
        """Average on hand at achieved fill ``fill``, interpolated (NaN outside the curve).

        The interpolation is linear in the normal quantile of the fill, ``z = Phi^-1(fill)``,
        not in the fill itself: safety stock grows about linearly in ``z`` while the
        stock-versus-fill curve steepens sharply toward 1, so a straight line between two
        fills lies above the curve and overstates the stock of whichever policy's grid points
        straddle the reading point more widely (return-blind overshoots, so its points are
        the wider apart, and linear in the fill flattered return-aware).
        """
        rows = sorted(self.curves[policy], key=lambda r: r["fill_rate"])
        f = np.array([r["fill_rate"] for r in rows])
        s = np.array([r["avg_on_hand"] for r in rows])
        if len(f) == 0 or fill < f[0] - 1e-12 or fill > f[-1] + 1e-12:
            return float("nan")
        z = stats.norm.ppf(np.clip(f, 1e-9, 1 - 1e-9))
        return float(np.interp(stats.norm.ppf(np.clip(fill, 1e-9, 1 - 1e-9)), z, s))

    def saving_at_equal_fill(self, fill: float = 0.95, policy: str = "return_aware",
                             against: str = "return_blind") -> float:
        """``1 - stock(policy) / stock(against)``, both read at the same achieved fill rate."""
        return 1 - self.stock_at_fill(policy, fill) / self.stock_at_fill(against, fill)

    def saving_at_target(self, target: float, policy: str = "return_aware",
                         against: str = "return_blind") -> float:
        """``1 - stock(policy) / stock(against)`` at the same target (the flattering view)."""
        return 1 - (self.at_target(policy, target)["avg_on_hand"]
                    / self.at_target(against, target)["avg_on_hand"])


def replay(sales: SalesPanel, returns: ReturnsData, items: ItemParams, *, weeks: int = 13,
           targets=None, target_kind: str | None = None, oracle=None, oracles=None,
           **planner_options) -> ReplayReport:
    """Replay the policies over the last ``weeks`` weeks of ``sales`` for each target.

    Args:
        sales, returns, items: the whole history; the holdout is its last ``weeks`` weeks.
        targets: levels to trace the curves on (default: the items' mean level only).
        target_kind: ``cycle``, ``fill`` or ``cost`` for every item (default: their own).
        oracle: optional ``callable(week, level, plan, sold) -> (n,)`` order-up-to levels of a
            policy that knows the true demand and return processes, replayed beside the two
            planners as ``oracle``; ``plan`` is the planner's :class:`ReplenishmentPlan` at that
            level, ``sold`` the ``(n, W)`` share of the recorded sales of each of the last
            weeks (column ``a`` = ``a`` weeks ago) this policy actually sold (None at the
            start): only those units can come back.
        oracles: more of them, ``{name: callable}`` (e.g. one that knows only the demand, to
            tell what knowing demand is worth from what knowing returns is worth).
        planner_options: passed to :class:`~forecasting.pipeline.Planner`.

    Every review week the planner is fitted on what was known at the end of the week (sales
    and returns received), as the nightly job would, once for all targets. Orders placed at the
    end of week t arrive at the start of week t + L + 1, so an order covers L + R weeks. Each
    policy starts at its own level in steady state (a week's expected net demand on each of
    the next L+1 deliveries, the rest on hand). Returns of sales made before the
    holdout arrive as recorded; returns of sales inside it are thinned by the share of that
    week's demand the policy actually served. The planner sees recorded demand (lost sales
    included), as a shop that logs unmet demand would, for its forecast; its known cohorts
    (units sold and still out) hold only the units the policy actually sold.
    """
    n, T = sales.y.shape
    o = T - weeks
    first_week = sales.start_week + o
    L = np.asarray(items.lead_time, np.int64)
    R = np.maximum(np.asarray(items.review_period, np.int64), 1)
    opts = planner_options.get("replenishment") or ReplenishmentOptions()
    targets = tuple(targets) if targets is not None else (float(np.mean(items.service_level)),)
    demand = sales.y[:, o:].astype(np.float64)
    extra = {**(oracles or {}), **({"oracle": oracle} if oracle is not None else {})}

    def planner(week):
        p = Planner(sales.truncate(week), returns.received_by(week), None, items,
                    **planner_options)
        return p, p.fit()

    def levels(p, week, sold=None):
        # ``sold``: each policy's share of recent recorded sales it actually sold (its known
        # cohorts hold only those units); None before the holdout, where all were sold.
        out = {}
        for g, level in enumerate(targets):
            its = _with_target(items, level, target_kind)
            share = None if sold is None else sold[("return_aware", g)]
            plan = p.replan(its, sold_share=share)
            out[("return_aware", g)] = plan.order_up_to
            out[("return_blind", g)] = plan.blind_order_up_to  # blind ignores the cohorts
            for name, fn in extra.items():
                own = None if sold is None else sold[(name, g)]
                out[(name, g)] = np.asarray(fn(week, level, plan, own), float)
        return out

    first, first_result = planner(first_week - 1)
    share = first_result.returns.restockable_share
    hist_back, win_back = _restockable_receipts(returns, share, n, first_week, weeks)
    start = levels(first, first_week - 1)
    # Start in steady state: L+1 weekly orders of the expected net demand on their way and the
    # rest of each level on the shelf. (All of it on the shelf would leave L weeks without any
    # risk of a stockout and flatter every policy's fill.)
    plan0 = first_result.replenishment
    weekly = np.maximum(plan0.gross_demand - plan0.expected_returns, 0) / plan0.protection_weeks
    pipe_len = weeks + int(L.max(initial=0)) + 2
    on_way = np.where(np.arange(pipe_len)[None, :] <= L[:, None], weekly[:, None], 0.0)
    state = {key: {"on_hand": np.maximum(np.ceil(s - (L + 1) * weekly), 0.0),
                   "pipe": on_way.copy(), "frac": np.ones((n, weeks)), "served": 0.0,
                   "lost": 0.0, "ordered": 0.0, "orders": 0, "stock": 0.0, "cycles_ok": 0.0,
                   "returned": 0.0}
             for key, s in start.items()}
    rows = np.arange(n)
    for t in range(weeks):
        for st in state.values():
            back = hist_back[:, t] + (win_back[:, : t + 1, t] * st["frac"][:, : t + 1]).sum(1)
            st["on_hand"] += st["pipe"][:, t] + back
            st["returned"] += back.sum()
            served = np.minimum(st["on_hand"], demand[:, t])
            st["on_hand"] -= served
            st["frac"][:, t] = np.where(demand[:, t] > 0, served / np.maximum(demand[:, t], 1e-12),
                                        1.0)
            st["served"] += served.sum()
            st["lost"] += (demand[:, t] - served).sum()
            st["cycles_ok"] += float((demand[:, t] - served <= 1e-9).sum())
            st["stock"] += st["on_hand"].sum()
        review = (t + 1) % R == 0
        if t == weeks - 1 or not review.any():
            continue
        cur = first_week + t  # the week just finished
        p_now = planner(cur)[0]
        new = levels(p_now, cur, {key: _sold_share(st["frac"], t, p_now.window)
                                  for key, st in state.items()})
        for key, st in state.items():
            ip = st["on_hand"] + st["pipe"][:, t + 1 :].sum(axis=1)
            q, _ = round_order(np.maximum(new[key] - ip, 0), items.case_pack, items.moq,
                               rule=opts.moq_rule, threshold=opts.moq_threshold)
            q = np.where(review, q, 0.0)
            st["pipe"][rows, t + L + 1] += q
            st["ordered"] += q.sum()
            st["orders"] += int((q > 0).sum())
    total = demand.sum()
    curves: dict[str, list[dict]] = {}
    for (policy, g), st in state.items():
        curves.setdefault(policy, []).append({
            "target": targets[g], "fill_rate": st["served"] / total if total else np.nan,
            "cycle_service": st["cycles_ok"] / (n * weeks), "avg_on_hand": st["stock"] / weeks,
            "units_ordered": st["ordered"], "n_orders": st["orders"],
            "lost_sales": st["lost"], "returns_received": st["returned"], "demand": total})
    return ReplayReport(curves=curves, weeks=weeks, n_series=n, targets=targets,
                        target_kind=target_kind)


def _sold_share(frac, t, window):
    """``(n, window)`` share of the recorded sales of ``a`` weeks before replay week ``t`` that
    the policy served (column ``a``; 1 before the replay)."""
    out = np.ones((len(frac), window))
    k = min(window, t + 1)
    out[:, :k] = frac[:, t - np.arange(k)]
    return out


def _with_target(items: ItemParams, level: float, kind: str | None) -> ItemParams:
    """``items`` with every series at ``level`` (and ``kind`` if given)."""
    n = len(items.category)
    changes = {"service_level": np.full(n, float(level))}
    if kind is not None:
        changes["service_target"] = np.full(n, kind, dtype=object)
    return replace(items, **changes)


def _restockable_receipts(returns, share_est, n, first_week, weeks):
    """Restockable units received per replay week: ``(n, weeks)`` from sales before the replay
    and ``(n, weeks, weeks)`` [series, sale week, receipt week] from sales inside it.

    Graded units count if A or B; units not graded yet count at the estimated restockable share.
    """
    rel = returns.receipt_week - first_week
    sale = returns.sale_week - first_week
    k = (rel >= 0) & (rel < weeks)
    share = np.where(returns.grade == NO_GRADE, share_est[returns.series],
                     (returns.grade <= 1).astype(float))
    units = returns.units * share
    before = k & (sale < 0)
    hist = np.bincount(returns.series[before] * weeks + rel[before], weights=units[before],
                       minlength=n * weeks).reshape(n, weeks)
    inside = k & (sale >= 0)
    flat = (returns.series[inside] * weeks + sale[inside]) * weeks + rel[inside]
    win = np.bincount(flat, weights=units[inside], minlength=n * weeks * weeks)
    return hist, win.reshape(n, weeks, weeks)
