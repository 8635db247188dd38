"""Size curves: split a SKU forecast into sizes, and reconcile sizes back to the SKU.

Shares come from *kept* units (sold minus returned): customers who order two sizes and send one
back inflate gross sales of the sizes that do not fit, so gross shares would keep buying the wrong
sizes. A SKU's curve is shrunk toward its category's curve with a pseudo-count, and new sizes or new
SKUs use the category curve outright. Gross demand per size is then the kept share divided by the
chance a unit is kept, ``1 - return rate``, renormalised so the sizes still add up to the SKU.
"""

from __future__ import annotations

import numpy as np


def category_curve(kept, cat_size, n_cat_size, cat_of_cell, n_cat):
    """Kept-unit share of each (category, size) cell within its category.

    Args:
        kept: ``(n,)`` kept units per series.
        cat_size: ``(n,)`` cell index of each series' (category, size label).
        cat_of_cell: ``(n_cat_size,)`` category of each cell.
    """
    cell = np.bincount(cat_size, weights=np.maximum(kept, 0), minlength=n_cat_size)
    tot = np.bincount(cat_of_cell, weights=cell, minlength=n_cat)
    return np.where(tot[cat_of_cell] > 0, cell / np.maximum(tot[cat_of_cell], 1e-12), 0.0)


def prior_shares(curve_of_series, sku, n_sku):
    """The category curve restricted to the sizes a SKU carries, renormalised within the SKU.

    Sizes the category has never sold get an even share, so a new size ladder still splits.
    """
    sizes = np.bincount(sku, minlength=n_sku)
    tot = np.bincount(sku, weights=curve_of_series, minlength=n_sku)
    even = 1.0 / np.maximum(sizes[sku], 1)
    return np.where(tot[sku] > 0, curve_of_series / np.maximum(tot[sku], 1e-12), even)


def kept_shares(kept, prior, sku, n_sku, *, strength=30.0, new=None):
    """SKU size curve of kept units shrunk toward ``prior``: ``(kept + m prior) / (K + m)``.

    ``new`` marks sizes without their own history; they get their prior share and the other sizes
    share the rest in proportion to their shrunk curve.
    """
    kept = np.maximum(kept, 0)
    K = np.bincount(sku, weights=kept, minlength=n_sku)
    share = (kept + strength * prior) / (K[sku] + strength)
    if new is None:
        return share
    # No shortcut when the rows hold no new size: the renormalisation below moves shares by an
    # ulp, and whether it ran must not depend on which other SKUs share the chunk.
    new_mass = np.bincount(sku, weights=np.where(new, prior, 0), minlength=n_sku)
    old_mass = np.bincount(sku, weights=np.where(new, 0, share), minlength=n_sku)
    scale = np.where(old_mass[sku] > 0, (1 - new_mass[sku]) / np.maximum(old_mass[sku], 1e-12), 0)
    out = np.where(new, prior, share * scale)
    # A SKU where every size is new (a new SKU) uses the category curve outright.
    return np.where(new_mass[sku] >= 1 - 1e-9, prior, out)


def gross_shares(kept_share, return_rate, sku, n_sku):
    """Turn kept-unit shares into gross-sales shares: ``kept / (1 - r)``, renormalised per SKU."""
    raw = kept_share / np.maximum(1 - return_rate, 0.05)
    tot = np.bincount(sku, weights=raw, minlength=n_sku)
    return raw / np.maximum(tot[sku], 1e-12)


def reconcile(size_forecast, sku_forecast, sku, n_sku):
    """Scale size forecasts so they add up to the SKU forecast, week by week (proportionally).

    Where all sizes of a SKU forecast zero, the SKU total cannot be placed and stays zero.
    """
    H = size_forecast.shape[1]
    tot = np.stack([np.bincount(sku, weights=size_forecast[:, h], minlength=n_sku)
                    for h in range(H)], axis=1)
    scale = np.where(tot > 0, sku_forecast / np.maximum(tot, 1e-12), 0.0)
    return size_forecast * scale[sku]
