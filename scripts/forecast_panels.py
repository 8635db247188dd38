"""Measure one configuration of the demand step on every panel the forecasting decisions use.

    python scripts/forecast_panels.py [--demand KEY=VALUE ...] [--tasks or1,syn,launch,noise,or2]
                                      [--cache /tmp/or.npz] [--autotheta /tmp/or_task1.npz]

One line per panel, so a change is judged on more than one data set (docs/forecasting.md):

- ``or1``: Online Retail, top 2,000 codes, last 13 weeks: MASE / bias, and MASE with the
  forecast scaled to AutoTheta's bias (-0.249, or the bias of ``--autotheta``: statsforecast
  ``AutoTheta(season_length=52)``'s ``(2000, 13)`` forecasts of the same codes, rows in the
  order of the panel, saved with ``np.save``, or the ``.npz`` of
  ``backtest_online_retail.py --dump``; with it, also per demand class: MASE and median, the
  same at AutoTheta's bias in the class and AutoTheta's, and what each chosen method's series
  add to the MASE gap between the library and AutoTheta);
- ``or2``: Online Retail new products, weeks 7-12 from weeks 1-6: MASE over naive's, bias;
- ``syn``: ``make_apparel_panel(3000, seed=1)``, profiles ``default`` and ``online``, last 13
  weeks: MASE / bias;
- ``launch``: ``make_launch_panel(3000, n_weeks=104, seed=2)`` without and with a season of
  amplitude 0.5: WAPE of the next 13 weeks against the generator's means for products 7-12 /
  13-26 / 27-51 / 52-103 weeks old;
- ``noise``: 400 series N(20, 5^2), seed 5: how many get a trend (holt, damped, theta).

``--demand`` sets :class:`forecasting.DemandOptions` fields (``lifecycle_season=1``). Needs
the Online Retail files (``../shared/data``) or ``--cache`` for ``or1`` and ``or2``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import backtest_online_retail as bor  # noqa: E402

from forecasting import DemandOptions, ItemParams, SalesPanel, run_pipeline  # noqa: E402
from forecasting.backtest import errors, errors_at_bias, series_mase  # noqa: E402
from forecasting.classify import CLASS_NAMES, classify, first_sale  # noqa: E402
from forecasting.synthetic import make_apparel_panel  # noqa: E402
from forecasting.synthetic_launches import make_launch_panel  # noqa: E402

AUTOTHETA_BIAS = -0.249  # its bias on task 1 in the run quoted in docs/forecasting.md


def demand_options(pairs, horizon):
    kinds = {f.name: f.type for f in fields(DemandOptions)}
    kw = {}
    for pair in pairs:
        key, value = pair.split("=", 1)
        kind = str(kinds[key])
        kw[key] = (value not in ("0", "false", "False") if "bool" in kind
                   else int(value) if "int" in kind else float(value))
    return DemandOptions(horizon=horizon, **kw)


def online_retail(a):
    if a.cache and a.cache.exists():
        panel, returns, _ = bor.load_cache(a.cache)
        return panel, returns
    shared = next((p / "shared" / "data" for p in ROOT.parents[:2]
                   if (p / "shared" / "data").is_dir()), ROOT.parent / "shared" / "data")
    sales, rets, stats = bor.read(sorted(shared.glob("*.csv.gz")))
    panel, returns, _ = bor.build(sales, rets)
    if a.cache:
        bor.save_cache(a.cache, panel, returns, stats)
    return panel, returns


def autotheta_forecasts(path):
    """AutoTheta's task-1 forecasts from an ``np.save`` file or a backtest ``--dump``."""
    data = np.load(path)
    return data["forecast:statsforecast AutoTheta"] if path.suffix == ".npz" else data


def or_top(a, panel, returns):
    T, h = panel.n_weeks, 13
    o = T - h
    rows = np.sort(np.argsort(-panel.y[:, :o].sum(axis=1), kind="stable")[:2000])
    sub, rets, items = bor.subset(panel, returns, rows)
    hist, act = sub.y[:, :o].astype(float), sub.y[:, o:].astype(float)
    last = sub.start_week + o - 1
    plan = run_pipeline(sub.truncate(last), rets.received_by(last), None, items, horizon=h,
                        demand=demand_options(a.demand, h))
    fc = plan.demand.forecast[:, :h]
    e = errors(fc, act, hist)
    theta = autotheta_forecasts(a.autotheta) if a.autotheta else None
    rival = AUTOTHETA_BIAS if theta is None else errors(theta, act, hist)["bias"]
    s = errors_at_bias(fc, act, hist, rival)
    print(f"or1     MASE {e['mase']:.3f} (median {e['mase_median']:.3f}) bias {e['bias']:+.3f}; "
          f"at AutoTheta's bias {s['mase']:.3f} (median {s['mase_median']:.3f})")
    if theta is None:
        return
    cls = classify(hist)
    gap = series_mase(fc, act, hist)[0] - series_mase(theta, act, hist)[0]
    method = plan.demand.method
    for m in np.unique(method):
        k = method == m
        print(f"or1     {m:16s} ({k.sum():4d}) adds {np.nansum(gap[k]) / len(gap):+.4f} to the "
              "MASE gap to AutoTheta")
    for c in np.unique(cls):
        k = cls == c
        at = errors(theta[k], act[k], hist[k])
        lib, sc = errors(fc[k], act[k], hist[k]), errors_at_bias(fc[k], act[k], hist[k],
                                                                    at["bias"])
        print(f"or1     {CLASS_NAMES[c]:12s} ({k.sum():4d}) MASE / median {lib['mase']:.3f} / "
              f"{lib['mase_median']:.3f}, at AutoTheta's bias {sc['mase']:.3f} / "
              f"{sc['mase_median']:.3f}; AutoTheta {at['mase']:.3f} / {at['mase_median']:.3f}")


def or_new(a, panel, returns):
    T = panel.n_weeks
    o = T - 13
    y = panel.y.astype(float)
    first = first_sale(y)
    new = np.flatnonzero((first >= o - 52) & (first < o) & (first + 12 <= T))
    seen = np.stack([y[i, first[i] : first[i] + 6] for i in new])
    actual = np.stack([y[i, first[i] + 6 : first[i] + 12] for i in new])
    fc = np.zeros_like(actual)
    for origin in np.unique(first[new] + 5):
        last = panel.start_week + int(origin)
        rows = new[first[new] + 5 == origin]
        plan = run_pipeline(panel.truncate(last), returns.received_by(last), None,
                            bor.items_for(panel), horizon=6, demand=demand_options(a.demand, 6))
        fc[np.searchsorted(new, rows)] = plan.demand.forecast[rows, :6]
    e = errors(fc, actual, seen)
    naive = errors(np.repeat(seen[:, -1:], 6, axis=1), actual, seen)
    print(f"or2     MASE {e['mase'] / naive['mase']:.3f} x naive, bias {e['bias']:+.3f}")


def synthetic(a):
    for profile in ("default", "online"):
        p = make_apparel_panel(3000, seed=1, profile=profile)
        o = p.sales.n_weeks - 13
        last = p.sales.start_week + o - 1
        plan = run_pipeline(p.sales.truncate(last), p.returns.received_by(last), None, p.items,
                            horizon=13, demand=demand_options(a.demand, 13))
        e = errors(plan.demand.forecast[:, :13], p.sales.y[:, o:].astype(float),
                   p.sales.y[:, :o].astype(float))
        print(f"syn     {profile:8s} MASE {e['mase']:.3f} bias {e['bias']:+.3f}")


def launches(a):
    for amp in (0.0, 0.5):
        p = make_launch_panel(3000, n_weeks=104, seed=2, seasonal_amplitude=amp)
        T = p.sales.n_weeks
        plan = run_pipeline(p.sales, None, None, p.items, horizon=13,
                            demand=demand_options(a.demand, 13))
        fc, truth, age = plan.demand.forecast[:, :13], p.mean[:, T : T + 13], T - p.launch
        out = []
        for lo, hi in ((7, 12), (13, 26), (27, 51), (52, 103)):
            k = (age >= lo) & (age <= hi)
            out.append(f"{np.abs(fc[k] - truth[k]).sum() / truth[k].sum():.3f}")
        print(f"launch  season {amp:.1f}: WAPE by age 7-12 / 13-26 / 27-51 / 52-103 "
              f"{' / '.join(out)}")


def noise(a):
    y = np.random.default_rng(5).normal(20, 5, (400, 104)).clip(0)
    ids = np.array([f"N{i:04d}|ONE" for i in range(400)])
    plan = run_pipeline(SalesPanel(ids, y), None, None, ItemParams.uniform(400), horizon=13,
                        demand=demand_options(a.demand, 13))
    trend = int(np.isin(plan.demand.method, ["holt", "damped", "theta"]).sum())
    print(f"noise   {trend} / 400 series given a trend")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--demand", nargs="*", default=[], metavar="KEY=VALUE")
    ap.add_argument("--tasks", default="or1,syn,launch,noise,or2")
    ap.add_argument("--cache", type=Path, help="Online Retail panel cache (.npz)")
    ap.add_argument("--autotheta", type=Path, help="AutoTheta's task-1 forecasts (.npy)")
    a = ap.parse_args(argv)
    tasks = a.tasks.split(",")
    if {"or1", "or2"} & set(tasks):
        panel, returns = online_retail(a)
    if "or1" in tasks:
        or_top(a, panel, returns)
    if "syn" in tasks:
        synthetic(a)
    if "launch" in tasks:
        launches(a)
    if "noise" in tasks:
        noise(a)
    if "or2" in tasks:
        or_new(a, panel, returns)


if __name__ == "__main__":
    main()
