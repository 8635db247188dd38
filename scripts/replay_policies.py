"""Replay return-aware, return-blind and oracle ordering and print the issue-16 targets.

    python scripts/replay_policies.py [--series 1500] [--seed 11] [--retail] [--weeks 13]

Three data sets, each replayed over its last ``--weeks`` weeks with fill-rate targets on a grid
(lost sales; returns only from units actually sold; see ``forecasting.replay``):

* synthetic online apparel (``profile="online"``: returns 20-45 %, lags of one to three weeks,
  fit-driven size skew), with an oracle that knows the generator's demand means, dispersion,
  return rates, lag laws and restockable shares, one that knows the same demand but ignores
  returns, and one that is the planner with the true returns process (what each knowledge is
  worth: the DECOMPOSE lines);
* synthetic with low returns (at most 5 %);
* with ``--retail``, the real UCI Online Retail II data (as ``backtest_online_retail.py`` reads
  it) at a 95 % fill target.

Prints each policy's curve (fill, cycle service, average on hand, units, orders), the targets and
the load average:
stock saving at equal achieved fill 95 % (and at equal target, for contrast), calibration at
0.90 / 0.95 / 0.98, aware against oracle, low-returns safety, and the real-data fill.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from forecasting.backtest import replay  # noqa: E402
from forecasting.lost_sales import POOLED_ALPHAS, pooled_fill_levels  # noqa: E402
from forecasting.replenishment import safety_stock_quantile  # noqa: E402
from forecasting.synthetic import expected_demand, make_apparel_panel  # noqa: E402

# Fill-rate targets (calibration), and cycle targets reaching low enough for the return-blind
# curve to cross 95 % fill (it overshoots, so its curve starts high).
GRID = {"fill": (0.80, 0.90, 0.95, 0.98),
        "cycle": (0.50, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.93, 0.95, 0.98)}
# The oracles replayed beside the planner, by what they know of the generator.
ORACLES = {"oracle": "both", "oracle_demand_only": "demand", "oracle_returns_only": "returns",
           "oracle_mean": "mean", "oracle_mean_blind": "mean_blind", "oracle_spread": "spread"}
DECOMPOSE = (
    ("return_aware", "return_blind", "returns knowledge, estimated; demand forecast"),
    ("oracle", "oracle_demand_only", "returns knowledge, exact; demand known"),
    ("oracle_returns_only", "return_aware", "exact returns process over estimated; "
                                            "demand forecast"),
    ("oracle_demand_only", "return_blind", "demand knowledge; returns ignored"),
    ("oracle", "return_aware", "demand knowledge; returns used"),
    ("oracle", "return_blind", "both"),
    ("oracle_mean", "oracle_returns_only", "the true demand mean over the forecast; both with "
                                           "the planner's spread and the true returns"),
    ("oracle", "oracle_mean", "the true spread over the planner's; both with the true mean"),
    ("oracle_spread", "oracle_returns_only", "the true demand spread over the planner's; both "
                                             "with the forecast mean"),
    ("oracle_returns_only", "return_blind", "returns knowledge, exact; demand forecast"),
    ("oracle_mean", "oracle_mean_blind", "returns knowledge, exact; demand mean known, planner's "
                                         "spread"),
)


def make_oracle(panel, kind: str, knows: str = "both"):
    """Order-up-to levels from the generator's true processes (what no planner can know).

    ``knows="both"``: window demand from the true weekly means, gamma-Poisson variance
    ``m + m^2 / shape``; returns of the window's own sales thin it (true rate x lag law x
    restockable share); units sold and not back yet come back with
    ``r (F(a + W) - F(a)) / (1 - r F(a))`` (binomial variance). ``knows="demand"``: the same
    true demand, returns ignored (the return-blind oracle: what knowing demand alone is worth).
    ``knows="returns"``: the planner's own return-aware level with its expected returns replaced
    by the true ones (what knowing the returns process alone adds to the planner).
    To tell the demand forecast's mean from its spread, with the true returns:
    ``knows="mean"``: the true demand mean with the planner's window spread (its return-aware
    ``sigma_window``); ``knows="spread"``: the planner's forecast mean with the true spread of
    demand; ``knows="mean_blind"``: the true mean, returns ignored, with the planner's
    return-blind spread. ``sold`` (from the replay): the share of each recent week's demand
    this policy sold; only those units can come back.
    """
    return _Oracle(panel, kind, knows)


class _Oracle:
    def __init__(self, panel, kind, knows):
        self.kind, self.knows = kind, knows
        t = self.truth = panel.truth
        it = panel.items
        self.n = len(panel.sales.ids)
        self.w = np.asarray(it.lead_time + it.review_period, np.int64)
        self.rate, self.keep, self.pmf = t["return_rate"], t["restockable"], t["lag_pmf"]
        self.cdf = np.cumsum(self.pmf, axis=1)
        self.win = self.pmf.shape[1] - 1
        self.y = panel.sales.y.astype(float)
        self.returns = panel.returns
        self.diag: dict = {}
        self.diag_level: float | None = None

    def true_window(self, cur, sold):
        """The true window's demand, thinning and known cohorts at the end of week ``cur``."""
        t, n, w, win, cdf = self.truth, self.n, self.w, self.win, self.cdf
        wmax = int(w.max())
        m = expected_demand(t, cur + 1 + np.arange(wmax))
        inside = np.arange(wmax)[None, :] < w[:, None]
        m = np.where(inside, m, 0.0)
        # a unit sold in window week j comes back (restockable) inside the window w.p. q_j
        left = np.clip(w[:, None] - 1 - np.arange(wmax)[None, :], 0, win)
        q = (self.rate * self.keep)[:, None] * np.take_along_axis(cdf, left, axis=1) * inside
        v = m + m * m / t["overdispersion"]
        gross, own = m.sum(axis=1), (m * q).sum(axis=1)
        # known cohorts: sold a weeks ago, not back by the end of week cur
        r = self.returns
        k = (r.sale_week > cur - win) & (r.sale_week <= cur) & (r.receipt_week <= cur)
        came = np.bincount(r.series[k] * win + cur - r.sale_week[k], weights=r.units[k],
                           minlength=n * win).reshape(n, win)
        known, cohort_var = np.zeros(n), np.zeros(n)
        for a in range(min(win, cur + 1)):
            open_units = np.maximum(self.y[:, cur - a] - came[:, a], 0)
            if sold is not None and a < sold.shape[1]:  # lost sales never come back
                open_units = open_units * sold[:, a]
            hi = np.minimum(a + w, win)
            p = (self.rate * (cdf[np.arange(n), hi] - cdf[:, a])
                 / np.maximum(1 - self.rate * cdf[:, a], 1e-9)) * self.keep
            known += open_units * p
            cohort_var += open_units * p * (1 - p)
        return {"gross": gross, "gross_var": v.sum(axis=1), "own": own, "known": known,
                "var": (v * (1 - q) ** 2 + m * q * (1 - q)).sum(axis=1) + cohort_var,
                "cohort_var": cohort_var,
                "qbar": np.where(gross > 0, own / np.maximum(gross, 1e-12), 0.0)}

    def inputs(self, tr, plan):
        """``(gross, gross_var, own, var)`` this oracle orders on (own = 0: returns ignored)."""
        gross, gross_var, own, var = tr["gross"], tr["gross_var"], tr["own"], tr["var"]
        if self.knows == "mean":  # the true mean with the planner's spread
            return gross, plan.blind_sigma_window ** 2, own, plan.sigma_window ** 2
        if self.knows == "mean_blind":  # the true mean, the planner's blind spread
            return gross, plan.blind_sigma_window ** 2, 0.0 * own, plan.blind_sigma_window ** 2
        if self.knows == "spread":  # the forecast mean with the true spread around it
            qbar = tr["qbar"]
            gross = plan.gross_demand
            var = gross_var * (1 - qbar) ** 2 + gross * qbar * (1 - qbar) + tr["cohort_var"]
            return gross, gross_var, gross * qbar, var
        if self.knows == "demand":
            return gross, gross_var, 0.0 * own, gross_var
        return gross, gross_var, own, var

    def __call__(self, cur, level, plan=None, sold=None):
        if self.diag_level is None:
            self.diag_level = level
        n, tr = self.n, self.true_window(cur, sold)
        if self.knows == "returns":
            # the planner's forecast thinned by the true return odds, plus the true cohorts
            true_back = plan.gross_demand * tr["qbar"] + tr["known"]
            return plan.order_up_to + plan.expected_returns - true_back
        if self.knows == "mean" and level == self.diag_level:
            _record(self, cur, plan, tr["gross"], tr["gross_var"])
        gross, gross_var, own, var = self.inputs(tr, plan)
        blind = self.knows in ("demand", "mean_blind")
        mean = gross - (0.0 if blind else tr["known"]) - own
        # the quantile of the sales that stay sold (as the planner takes it), less the known
        # cohorts' returns
        kept = np.maximum(gross - own, 1e-9)

        def at(alpha):
            return mean + safety_stock_quantile(kept, var, np.full(n, alpha))

        if self.kind == "fill":  # the planner's pooled fill per category, with the true inputs
            grid = np.stack([np.maximum(at(alpha), 0) for alpha in POOLED_ALPHAS], axis=1)
            # returns come back from the simulated sales, with the true odds and lags
            sold_back = None if blind else (self.rate * self.keep, self.pmf, tr["known"])
            return pooled_fill_levels(grid, gross, gross_var, self.w, np.full(n, level),
                                      self.truth["category"], discrete=np.ones(n, bool),
                                      returns_from_sales=sold_back)[0]
        return at(level)


def _record(o, cur, plan, m, true_var):
    """Sums of what the planner's window forecast and spread miss (``o.diag``)."""
    n, w, y, r = o.n, o.w, o.y, o.returns
    end = cur + 1 + w
    ok = end <= y.shape[1]
    c = np.cumsum(np.concatenate([np.zeros((n, 1)), y], axis=1), axis=1)
    actual = c[np.arange(n), np.minimum(end, y.shape[1])] - c[:, cur + 1]
    f = plan.gross_demand
    smooth = plan.safety_stock_method == "normal"
    for key, rows in (("all", ok), ("smooth", ok & smooth), ("intermittent", ok & ~smooth)):
        acc = o.diag.setdefault(key, np.zeros(7))
        acc += [rows.sum(), f[rows].sum(), m[rows].sum(), ((f - m)[rows] ** 2).sum(),
                true_var[rows].sum(), (plan.blind_sigma_window[rows] ** 2).sum(),
                ((actual - f)[rows] ** 2).sum()]
    # net of the restockable returns received inside the window, against the planner's net
    # forecast and its window spread (returns terms included)
    k = (r.receipt_week > cur) & (r.receipt_week < cur + 1 + w[r.series]) & (r.grade <= 1)
    got = np.bincount(r.series[k], weights=r.units[k], minlength=n)
    e = (actual - got) - (f - plan.expected_returns)
    sw2 = plan.sigma_window ** 2
    hi_ret = o.rate >= np.median(o.rate)
    for key, rows in (("net smooth, returns < median", ok & smooth & ~hi_ret),
                      ("net smooth, returns >= median", ok & smooth & hi_ret),
                      ("net intermittent, returns < median", ok & ~smooth & ~hi_ret),
                      ("net intermittent, returns >= median", ok & ~smooth & hi_ret)):
        acc = o.diag.setdefault(key, np.zeros(5))
        zz = e[rows] / np.sqrt(np.maximum(sw2[rows], 1e-9))
        acc += [rows.sum(), (e[rows] ** 2).sum(), sw2[rows].sum(), e[rows].sum(),
                (zz > 1.645).sum()]


def show_diag(oracles):
    """What the planner's window forecast and spread miss, from the ``oracle_mean`` records."""
    if "oracle_mean" not in oracles:
        return
    for key, vals in oracles["oracle_mean"].diag.items():
        if vals[0] == 0:
            continue
        if key.startswith("net"):
            cnt, e2, sw2, esum, over = vals
            print(f"DIAG {key:36s} {cnt:6,.0f}: realised / planner's spread^2 {e2 / sw2:.2f}; "
                  f"mean error {esum / cnt:+.2f}; above 1.645 spreads {over / cnt:.3f}")
            continue
        cnt, f, m, err2, true_var, planner_var, act2 = vals
        print(f"DIAG {key:12s} series-weeks {cnt:,.0f}: forecast / true mean {f / m:.3f}; "
              f"squared error of the mean / demand variance {err2 / true_var:.2f}; "
              f"planner's spread^2 / realised squared error {planner_var / act2:.2f}; "
              f"(true variance + squared error of the mean) / realised "
              f"{(true_var + err2) / act2:.2f}")


def show(name, rep):
    print(f"\n{name}: {rep.n_series:,} series, last {rep.weeks} weeks, {rep.target_kind} targets")
    print(f"{'policy':13s} {'target':>6s} {'fill':>6s} {'cycle':>6s} {'avg on hand':>11s} "
          f"{'units':>8s} {'orders':>7s}")
    for row in rep.to_records():
        print(f"{row['policy']:13s} {row['target']:6.2f} {row['fill_rate']:6.3f} "
              f"{row['cycle_service']:6.3f} {row['avg_on_hand']:11,.0f} "
              f"{row['units_ordered']:8,.0f} {row['n_orders']:7,d}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--series", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--weeks", type=int, default=13)
    ap.add_argument("--retail", action="store_true", help="also replay Online Retail II")
    ap.add_argument("--kinds", default="fill,cycle", help="target kinds to replay (comma list)")
    ap.add_argument("--no-low", action="store_true", help="skip the low-returns panel")
    ap.add_argument("--low-only", action="store_true", help="only the low-returns panel")
    ap.add_argument("--oracles", default=",".join(ORACLES),
                    help="oracles to replay beside the planner (comma list; each one costs a "
                         "policy's simulations with fill targets)")
    ap.add_argument("--retail-only", action="store_true",
                    help="only the Online Retail II replay (to run it beside the synthetic one)")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    if not a.retail_only:
        synthetic(a)
    if a.retail or a.retail_only:
        retail_replay(a)
    print(f"\n({time.perf_counter() - t0:.0f} s; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})")


def synthetic(a):
    """The online-apparel and low-returns panels, with fill and cycle targets."""
    online = make_apparel_panel(a.series, seed=a.seed, profile="online")
    kinds = a.kinds.split(",")
    for kind in [] if a.low_only else kinds:
        oracles = {name: make_oracle(online, kind, ORACLES[name])
                   for name in a.oracles.split(",")}
        rep = replay(online.sales, online.returns, online.items, weeks=a.weeks,
                     targets=GRID[kind], target_kind=kind, oracles=oracles,
                     return_window_weeks=online.window)
        show("synthetic online apparel", rep)
        show_diag(oracles)
        save = rep.saving_at_equal_fill(0.95)
        oracle_save = rep.saving_at_equal_fill(0.95, policy="oracle")
        ratio = rep.stock_at_fill("return_aware", 0.95) / rep.stock_at_fill("oracle", 0.95)
        print(f"\nTARGET ({kind} targets) stock saving at equal achieved fill 95 %: {save:.1%} "
              f"(goal >= 8 %); at equal target 0.95: {rep.saving_at_target(0.95):.1%}")
        print(f"TARGET ({kind} targets) oracle saving at equal fill 95 %: {oracle_save:.1%}; "
              f"aware / oracle stock {ratio:.3f} (goal <= 1.10); aware's share of the oracle's "
              f"saving {save / oracle_save:.0%} (goal >= 80 % where the oracle saves < 8 %)")
        # Where each policy's saving comes from: knowing demand, knowing returns, or both.
        for mine, theirs, what in DECOMPOSE:
            if not {mine, theirs} <= set(rep.curves):
                continue
            print(f"DECOMPOSE ({kind} targets) {mine} against {theirs} at equal fill 95 %: "
                  f"{rep.saving_at_equal_fill(0.95, policy=mine, against=theirs):.1%} ({what})")
        if kind == "fill":
            for target in (0.90, 0.95, 0.98):
                got = rep.at_target("return_aware", target)["fill_rate"]
                print(f"TARGET calibration fill {target:.2f}: achieved {got:.3f} "
                      f"({(got - target) * 100:+.1f} pp, goal within 1 pp)")

    if a.no_low:
        return
    low = make_apparel_panel(a.series, seed=a.seed, profile="low_returns")
    for kind in kinds:
        rep_low = replay(low.sales, low.returns, low.items, weeks=a.weeks, targets=GRID[kind],
                         target_kind=kind, return_window_weeks=low.window)
        show("synthetic low returns", rep_low)
        got = [rep_low.saving_at_equal_fill(f) for f in (0.90, 0.95, 0.98)]
        got = [g for g in got if np.isfinite(g)]
        worst = f"{min(got):.1%}" if got else "n/a (curves do not overlap)"
        print(f"\nTARGET ({kind} targets) low returns, worst saving at equal fill "
              f"(0.90/0.95/0.98 where both curves reach): {worst} (goal >= -1 %)")


def retail_replay(a):
    """The real Online Retail II data at a 95 % fill target."""
    import backtest_online_retail as retail

    paths = sorted((ROOT.parent / "shared" / "data").glob("*.csv.gz"))
    if not paths:
        paths = sorted(Path("/work/shared/data").glob("*.csv.gz"))
    sales, rets, _ = retail.read(paths)
    panel, returns, items = retail.build(sales, rets)
    rep_r = replay(panel, returns, items, weeks=a.weeks, targets=(0.95,),
                   target_kind="fill", return_window_weeks=10, default_restockable=0.9)
    show("Online Retail II", rep_r)
    got = rep_r.at_target("return_aware", 0.95)["fill_rate"]
    print(f"\nTARGET Online Retail fill at 95 %: {got:.3f} ({(got - 0.95) * 100:+.1f} pp, "
          "goal within 3 pp)")


if __name__ == "__main__":
    main()
