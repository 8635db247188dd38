"""Synthetic apparel panels with known truth, deterministic by seed.

What is simulated (and returned in :attr:`SyntheticPanel.truth`): per category a size ladder and
size curve, seasonality and a return-lag law; per SKU a demand level (log-normal, so most SKUs
are slow and sizes are intermittent), trend, launch week and size curve; per size a return
probability that rises toward the ends of the ladder, reasons that say "too small" for small sizes
and "too large" for large ones, and a restockable share. Sales are gamma-Poisson; returns are
binomial in sales with lags drawn from the category's law truncated at the return window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.panel import ItemParams, ReturnsData, SalesPanel, StockPosition

CATEGORIES = {
    # sizes, size curve, return rate, mean lag (weeks), seasonal amplitude, peak week, lead time
    "tops": (("XS", "S", "M", "L", "XL"), (0.08, 0.22, 0.32, 0.25, 0.13), 0.22, 2.0, 0.3, 20, 2),
    "dresses": (("34", "36", "38", "40", "42", "44"), (0.07, 0.17, 0.26, 0.25, 0.16, 0.09),
                0.38, 2.5, 0.5, 24, 3),
    "trousers": (("28", "30", "32", "34", "36"), (0.12, 0.24, 0.3, 0.22, 0.12),
                 0.30, 3.0, 0.2, 10, 2),
    "knitwear": (("S", "M", "L", "XL"), (0.2, 0.35, 0.3, 0.15), 0.15, 1.5, 0.8, 48, 4),
}
# Online apparel: return rates of 20-45 %, lags of one to three weeks (parcels go back fast), and
# returns driven by fit, so the ends of the size ladder come back far more than the middle.
ONLINE_CATEGORIES = {
    c: (*v[:2], rate, lag, *v[4:]) for (c, v), (rate, lag) in zip(
        CATEGORIES.items(), ((0.24, 1.3), (0.42, 2.0), (0.34, 2.6), (0.22, 1.6)), strict=True)}
# A shop with hardly any returns (<= 5 %): the return-aware policy has little to use there.
LOW_RETURN_CATEGORIES = {
    c: (*v[:2], rate, *v[3:]) for (c, v), rate in zip(CATEGORIES.items(),
                                                       (0.03, 0.05, 0.04, 0.02), strict=True)}
PROFILES = {"default": (CATEGORIES, 0.35), "online": (ONLINE_CATEGORIES, 0.9),
            "low_returns": (LOW_RETURN_CATEGORIES, 0.35)}
"""Category table and fit-driven size skew (how much more the ladder's ends return) by name."""
OVERDISPERSION = 4.0  # gamma shape of the weekly demand multiplier


@dataclass
class SyntheticPanel:
    """A generated panel: the library's inputs plus the truth they were drawn from."""

    sales: SalesPanel
    returns: ReturnsData
    stock: StockPosition
    items: ItemParams
    truth: dict
    window: int


def _lag_pmf(mean, window):
    """1 + Poisson(mean - 1) weeks, truncated at the return window and renormalised."""
    from scipy import stats

    k = np.arange(window + 1)
    pmf = np.where(k >= 1, stats.poisson.pmf(k - 1, max(mean - 1, 1e-9)), 0.0)
    return pmf / pmf.sum()


def make_apparel_panel(n_series: int = 2000, *, n_weeks: int = 104, seed: int = 0,
                       window: int = 8, mean_log_rate: float = 1.0, sd_log_rate: float = 1.2,
                       late_launch_share: float = 0.1, profile: str = "default") -> SyntheticPanel:
    """Generate about ``n_series`` SKU x size series (whole SKUs; trimmed to ``n_series``).

    Args:
        n_series: number of SKU x size series.
        n_weeks: weeks of history; week indices run ``0 .. n_weeks - 1``.
        seed: the same seed gives the same panel.
        window: return window in weeks (lags are truncated at it).
        mean_log_rate, sd_log_rate: log-normal SKU weekly demand.
        late_launch_share: share of SKUs launched during the history.
        profile: ``default`` (store and online mix, returns 15-38 %), ``online`` (online
            apparel: returns 20-45 %, lags of one to three weeks, strong fit-driven size skew)
            or ``low_returns`` (at most 5 %); see :data:`PROFILES`.
    """
    table, skew = PROFILES[profile]
    rng = np.random.default_rng(seed)
    cats = list(table)
    sizes_per_cat = np.array([len(table[c][0]) for c in cats])
    # Draw SKUs until the series count is reached, then trim the last SKU.
    n_sku_est = int(n_series / sizes_per_cat.mean() * 1.3) + 4
    sku_cat = rng.integers(0, len(cats), n_sku_est)
    n_sz = sizes_per_cat[sku_cat]
    n_sku = int(np.searchsorted(np.cumsum(n_sz), n_series) + 1)
    sku_cat, n_sz = sku_cat[:n_sku], n_sz[:n_sku]
    sku = np.repeat(np.arange(n_sku), n_sz)[:n_series]
    pos = (np.arange(len(sku)) - np.repeat(np.cumsum(n_sz) - n_sz, n_sz)[:n_series])
    cat = sku_cat[sku]
    n = len(sku)
    ladder_len = sizes_per_cat[cat]
    x = pos / np.maximum(ladder_len - 1, 1)  # 0 = smallest size, 1 = largest

    labels = _labels_fast(table, cats, cat, pos)
    ids = np.char.add(np.char.add(np.char.add("SKU", np.char.zfill(sku.astype(str), 7)), "|"),
                      labels)

    # Size curve: Dirichlet around the category curve, per SKU.
    cat_curve = np.zeros(n)
    for ci, c in enumerate(cats):
        m = cat == ci
        cat_curve[m] = np.asarray(table[c][1])[pos[m]]
    g = rng.gamma(60 * cat_curve)
    share = g / np.bincount(sku, weights=g)[sku]

    sku_rate = np.exp(rng.normal(mean_log_rate, sd_log_rate, n_sku))
    trend = rng.normal(0, 0.15, n_sku)
    launch = np.where(rng.random(n_sku) < late_launch_share,
                      rng.integers(0, max(n_weeks - 20, 1), n_sku), 0)
    amp = np.array([table[c][4] for c in cats])[cat]
    peak = np.array([table[c][5] for c in cats])[cat]

    base_rr = np.array([table[c][2] for c in cats])
    sku_rr = rng.beta(base_rr[sku_cat] * 40, (1 - base_rr[sku_cat]) * 40)
    size_mult = 1 + skew * np.abs(2 * x - 1) ** 1.5
    rr = np.clip(sku_rr[sku] * size_mult, 0.01, 0.85)
    p_small = 0.08 + 0.45 * (1 - x)
    p_large = 0.08 + 0.45 * x
    reason_p = np.stack([p_small, p_large, 1 - p_small - p_large], axis=1)
    restock = rng.beta(0.75 * 30, 0.25 * 30, n)
    lag_pmf_cat = np.stack([_lag_pmf(table[c][3], window) for c in cats])
    lag_cdf = np.cumsum(lag_pmf_cat, axis=1)

    y = np.zeros((n, n_weeks), dtype=np.float32)
    t = np.arange(n_weeks)[None, :]
    ev = []
    step = 50_000
    for a in range(0, n, step):
        b = min(a + step, n)
        s = sku[a:b]
        lam = (sku_rate[s, None] * share[a:b, None]
               * (1 + amp[a:b, None] * np.cos(2 * np.pi * (t - peak[a:b, None]) / 52))
               * np.clip(1 + trend[s, None] * (t - n_weeks / 2) / 52, 0.2, None)
               * (t >= launch[s, None]))
        lam = lam * rng.gamma(OVERDISPERSION, 1 / OVERDISPERSION, lam.shape)
        sold = rng.poisson(lam)
        y[a:b] = sold
        back = rng.binomial(sold, rr[a:b, None])
        rows, weeks = np.nonzero(back)
        units = back[rows, weeks]
        ev.append((np.repeat((rows + a).astype(np.int32), units),
                   np.repeat(weeks.astype(np.int32), units)))
    series = np.concatenate([e[0] for e in ev])
    sale_week = np.concatenate([e[1] for e in ev])
    m = len(series)
    u = rng.random(m)
    lag = np.zeros(m, dtype=np.int32)
    for ci in range(len(cats)):  # inverse-CDF draw per category, without an (m, W) temporary
        k = cat[series] == ci
        lag[k] = np.minimum(np.searchsorted(lag_cdf[ci], u[k], side="left"), window)
    receipt = sale_week + lag
    u2 = rng.random(m)
    p0 = reason_p[series, 0].astype(np.float32)
    bucket = (u2 > p0).astype(np.int8) + (u2 > p0 + reason_p[series, 1].astype(np.float32))
    other_codes = rng.integers(2, 9, m).astype(np.int8)  # spread "other" over the other reasons
    reason = np.where(bucket == 0, 0, np.where(bucket == 1, 1, other_codes)).astype(np.int8)
    ok = rng.random(m) < restock[series]
    u3 = rng.random(m)
    grade = np.where(ok, np.where(u3 < 0.7, 0, 1), np.where(u3 < 0.6, 2, 3)).astype(np.int8)
    last = n_weeks - 1
    grade = np.where(receipt >= last, 4, grade).astype(np.int8)  # last week's not graded yet
    seen = receipt <= last
    returns = ReturnsData(series[seen], sale_week[seen], receipt[seen], reason[seen], grade[seen],
                          np.ones(int(seen.sum()), dtype=np.float32))
    in_transit = np.bincount(series[receipt == last + 1], minlength=n).astype(float)
    recent = y[:, -4:].mean(axis=1)
    stock = StockPosition(
        on_hand=rng.poisson(recent * 2).astype(float), reserved=rng.poisson(recent * 0.1) * 1.0,
        returns_in_transit=in_transit, on_order_series=np.zeros(0, np.int64),
        on_order_week=np.zeros(0, np.int64), on_order_units=np.zeros(0))
    lead = np.array([table[c][6] for c in cats])[cat]
    items = ItemParams(category=np.array(cats, dtype=object)[cat], lead_time=lead,
                       review_period=np.ones(n, np.int64), case_pack=np.ones(n, np.int64),
                       moq=np.zeros(n, np.int64), unit_cost=np.round(rng.lognormal(3, 0.4, n), 2),
                       service_level=np.full(n, 0.95))
    truth = {"return_rate": rr, "restockable": restock, "reason_p": reason_p,
             "lag_pmf": lag_pmf_cat[cat], "lag_median": (lag_cdf[cat] < 0.5).sum(axis=1),
             "size_share": share, "sku": sku, "category": cat, "sku_rate": sku_rate,
             "launch": launch[sku], "size_position": x, "amplitude": amp, "peak": peak,
             "trend": trend[sku], "n_weeks": n_weeks, "overdispersion": OVERDISPERSION}
    return SyntheticPanel(sales=SalesPanel(ids, y, 0), returns=returns, stock=stock, items=items,
                          truth=truth, window=window)


def expected_demand(truth: dict, weeks) -> np.ndarray:
    """``(n, len(weeks))`` the generator's mean weekly demand (before its gamma noise).

    Weekly demand is Poisson with this mean times a gamma(``OVERDISPERSION``) multiplier, so its
    variance is ``m + m^2 / OVERDISPERSION``: what an oracle knows and a forecaster must learn.
    """
    t = np.asarray(weeks, float)[None, :]
    amp, peak = truth["amplitude"][:, None], truth["peak"][:, None]
    trend = truth["trend"][:, None]
    return (truth["sku_rate"][truth["sku"]][:, None] * truth["size_share"][:, None]
            * (1 + amp * np.cos(2 * np.pi * (t - peak) / 52))
            * np.clip(1 + trend * (t - truth["n_weeks"] / 2) / 52, 0.2, None)
            * (t >= truth["launch"][:, None]))


def _labels_fast(table_of, cats, cat, pos):
    """Size labels for large panels without a Python loop per series."""
    longest = max(len(table_of[c][0]) for c in cats)
    table = np.array([list(table_of[c][0]) + [""] * (longest - len(table_of[c][0]))
                      for c in cats])
    return table[cat, pos]
