"""Synthetic panels of product launches with known lifecycle and seasonality (for tests).

Each category has its own post-launch curve (a quick peak and a decay at the category's rate)
and a 52-week seasonal index; products launch every week with log-normal launch levels and sell
Poisson units of ``level * curve[age] * season[week]``. Nothing here is used by the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.panel import ItemParams, SalesPanel


@dataclass
class LaunchPanel:
    """A generated panel, its items and the truth behind it."""

    sales: SalesPanel
    items: ItemParams
    launch: np.ndarray       # (n,) launch column of each product
    mean: np.ndarray         # (n, T + extra) expected units per week (beyond T: the future)


def make_launch_panel(n_products: int = 3000, *, n_weeks: int = 104, extra_weeks: int = 13,
                      n_categories: int = 3, seasonal_amplitude: float = 0.0,
                      seed: int = 0) -> LaunchPanel:
    """Generate ``n_products`` one-size SKUs launched uniformly over the panel's weeks.

    Args:
        seasonal_amplitude: peak-to-mean ratio minus 1 of each category's yearly cycle (0 = none).
        extra_weeks: weeks of truth kept after the last observed week.
    """
    rng = np.random.default_rng(seed)
    T, H = n_weeks, extra_weeks
    cat = rng.integers(0, n_categories, n_products)
    decay = np.linspace(0.05, 0.25, n_categories)[cat]          # weekly decay after the peak
    peak = rng.choice([1, 2, 3], n_categories)[cat]             # weeks to the peak
    launch = rng.integers(1, T, n_products)
    level = np.exp(rng.normal(1.5, 0.8, n_products))
    t = np.arange(T + H)[None, :]
    age = t - launch[:, None]
    ramp = np.clip((age + 1) / peak[:, None], 0, 1)
    fall = np.exp(-decay[:, None] * np.maximum(age - peak[:, None], 0))
    curve = np.where(age < 0, 0.0, ramp * fall)
    phase = rng.uniform(0, 52, n_categories)[cat]
    season = 1 + seasonal_amplitude * np.cos(2 * np.pi * (t - phase[:, None]) / 52)
    mean = level[:, None] * curve * season
    y = rng.poisson(mean[:, :T]).astype(np.float32)
    ids = np.array([f"P{i:05d}|ONE" for i in range(n_products)])
    items = ItemParams.uniform(n_products)
    items = ItemParams(**{**items.__dict__,
                          "category": np.array([f"cat{c}" for c in cat], dtype=object)})
    return LaunchPanel(sales=SalesPanel(ids, y), items=items, launch=launch, mean=mean)
