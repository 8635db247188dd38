"""Is the window spread calibrated? The planner's squared spread against the truth it estimates.

    python scripts/spread_calibration.py [--series 4000] [--sd-log 0.6] [--panel stationary]

The online-apparel generator's own SKUs, sizes, categories and lead times, with its sales
redrawn from the generator's weekly means (gamma-Poisson) with parts of its process switched
off (``--panel stationary``: no season, trend or launches; ``seasonal``: all of it). At four
origins near the end the planner is fitted on the weeks before (no returns, no lost sales) and
its squared L+R window spread (``blind_sigma_window``) is summed against the true variance of
the window's demand plus the squared error of the window forecast's mean; 1.00 is calibrated.
Each row switches one part of the method off (a clean experiment, not a test):

* ``share known at each origin``: the size split's share in the window errors from the units
  sold before each origin (shrunk toward the share used now with the split's 30 pseudo-units),
  where the library uses the share fitted on the whole history, windows included;
* ``no own size models``: every size is the SKU's forecast times its share, as the spread
  measures it (a size that keeps a model of its own is forecast by one the spread never
  refits);
* ``no level law``: errors scaled by weeks x one-week variance instead of each category's
  error-versus-level law;
* ``single method``: the chosen method alone instead of the top-three mean.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import forecasting.demand as demand  # noqa: E402
import forecasting.pipeline as pipeline  # noqa: E402
from forecasting import Planner, SalesPanel  # noqa: E402
from forecasting.demand import DemandOptions  # noqa: E402
from forecasting.spread import window_errors  # noqa: E402
from forecasting.synthetic import OVERDISPERSION, expected_demand, make_apparel_panel  # noqa: E402

CUTS = (88, 91, 94, 97)


def redraw(panel, season: bool, trend: bool, launch: bool, seed: int):
    """``(means, sales)``: the generator's weekly means with parts switched off, and sales."""
    t = dict(panel.truth)
    if not season:
        t["amplitude"] = 0 * t["amplitude"]
    if not trend:
        t["trend"] = 0 * t["trend"]
    if not launch:
        t["launch"] = 0 * t["launch"]
    weeks = t["n_weeks"]
    m = expected_demand(t, np.arange(weeks + 8))
    rng = np.random.default_rng(seed)
    y = rng.poisson(m * rng.gamma(OVERDISPERSION, 1 / OVERDISPERSION, m.shape))
    return m, y[:, :weeks].astype(np.float32)


def measure(panel, m, y, **planner_options) -> dict:
    """Summed squared spread over (true variance + squared error of the mean), by class."""
    n = len(y)
    w = np.asarray(panel.items.lead_time + panel.items.review_period)
    acc: dict = {}
    for cut in CUTS:
        plan = Planner(SalesPanel(panel.sales.ids, y[:, :cut], 0), None, None, panel.items,
                       **planner_options).fit().replenishment
        inside = np.arange(8)[None, :] < w[:, None]
        mm = m[:, cut : cut + 8] * inside
        true_var = (mm + mm**2 / OVERDISPERSION).sum(axis=1)
        err2 = (plan.gross_demand - mm.sum(axis=1)) ** 2
        smooth = plan.safety_stock_method == "normal"
        for key, rows in (("all", np.ones(n, bool)), ("smooth", smooth),
                          ("intermittent", ~smooth)):
            a = acc.setdefault(key, np.zeros(3))
            a += [(plan.blind_sigma_window[rows] ** 2).sum(), true_var[rows].sum(),
                  err2[rows].sum()]
    return {k: a[0] / (a[1] + a[2]) for k, a in acc.items()}


SIZE_WINDOW_ERRORS = demand.size_window_errors


def _shares_known_at_each_origin(y, y_sku, sku, method, share, weeks, at):
    """The library's size window errors, with each size's share from the units sold before
    each origin instead of the whole history's."""
    _, sku_sum = SIZE_WINDOW_ERRORS(y, y_sku, sku, method, np.ones(len(share)), weeks, at)
    last = at.end - at.kmax
    origins = np.array([o for o in range(last - at.n_origins + 1, last + 1) if o > 0])
    units = np.nan_to_num(np.asarray(y, float))
    before = np.cumsum(units, axis=1)[:, origins - 1]
    sku_before = np.stack([np.bincount(sku, weights=before[:, j])
                           for j in range(len(origins))], axis=1)[sku]
    share_at = (before + 30 * share[:, None]) / (sku_before + 30)
    fsum = sku_sum * share_at
    return window_errors(fsum, origins, units, weeks), fsum


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--series", type=int, default=4000)
    ap.add_argument("--sd-log", type=float, default=0.6, help="spread of log SKU levels")
    ap.add_argument("--panel", choices=("stationary", "seasonal"), default="stationary")
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args(argv)
    panel = make_apparel_panel(a.series, seed=a.seed, profile="online", sd_log_rate=a.sd_log)
    on = a.panel == "seasonal"
    m, y = redraw(panel, on, on, on, a.seed + 1)
    law = pipeline.level_variance
    no_own = {"demand": DemandOptions(own_model_min_rate=1e12)}
    rows = [("the spread as it is", {}, ()), ("share known at each origin", {}, ("share",)),
            ("no own size models", no_own, ()),
            ("share at origin, no own models", no_own, ("share",)),
            ("no level law", {}, ("law",)),
            ("single method", {"demand": DemandOptions(combine=1)}, ())]
    print(f"{a.panel} panel, {a.series:,} series, log level sd {a.sd_log}, origins {CUTS}: "
          "squared spread / (true variance + squared error of the mean)")
    for label, options, off in rows:
        demand.size_window_errors = (_shares_known_at_each_origin if "share" in off
                                     else SIZE_WINDOW_ERRORS)
        pipeline.level_variance = (lambda *_a, **_k: None) if "law" in off else law
        got = measure(panel, m, y, **options)
        print(f"{label:28s} " + "  ".join(f"{k} {v:.3f}" for k, v in got.items()), flush=True)
    demand.size_window_errors, pipeline.level_variance = SIZE_WINDOW_ERRORS, law
    print(f"(load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
