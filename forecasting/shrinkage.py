"""Empirical-Bayes shrinkage kernels shared by return rates, restockable shares and size curves."""

from __future__ import annotations

import numpy as np


def group_sum(values, group, n_groups):
    """Sum of ``values`` per group label (``bincount`` that accepts 2-D values column-wise)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        return np.bincount(group, weights=values, minlength=n_groups)
    return np.stack([np.bincount(group, weights=values[:, j], minlength=n_groups)
                     for j in range(values.shape[1])], axis=1)


def beta_strength(k, n, mu, group, n_groups, *, lo=2.0, hi=1e4):
    """Method-of-moments prior strength ``m = alpha + beta`` of a beta-binomial, per group.

    For items ``i`` with ``k_i`` successes in ``n_i`` trials around a known prior mean ``mu_i``,
    ``E[(p_i - mu_i)^2] = mu_i (1 - mu_i) (rho + (1 - rho) / n_i)`` with ``rho = 1 / (m + 1)``
    (the intra-class correlation). Weighting each item by ``n_i`` and solving for ``rho`` gives
    the estimate below; it is clipped to ``[lo, hi]`` so one group with no spread does not shrink
    everything to the prior and one with huge spread does not switch shrinkage off.
    """
    k, n, mu = (np.asarray(a, dtype=np.float64) for a in (k, n, mu))
    use = (n > 1) & (mu > 0) & (mu < 1)
    p = np.where(use, k / np.where(use, n, 1), 0)
    x = np.where(use, n * (p - mu) ** 2 / np.where(use, mu * (1 - mu), 1), 0)
    num = np.bincount(group, weights=x, minlength=n_groups) - np.bincount(
        group, weights=use.astype(float), minlength=n_groups)
    den = np.bincount(group, weights=np.where(use, n - 1, 0), minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(den > 0, num / den, np.nan)
    rho = np.clip(np.nan_to_num(rho, nan=1.0 / (hi + 1)), 1.0 / (hi + 1), 1.0 / (lo + 1))
    return 1.0 / rho - 1.0


def shrink(k, n, mu, strength):
    """Posterior mean of a beta-binomial: ``(k + m mu) / (n + m)``."""
    return (np.asarray(k, float) + strength * mu) / (np.asarray(n, float) + strength)


def pooled_rate(k, n, group, n_groups, *, default):
    """``sum k / sum n`` per group, ``default`` where a group has no trials."""
    kk = np.bincount(group, weights=k, minlength=n_groups)
    nn = np.bincount(group, weights=n, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(nn > 0, kk / np.where(nn > 0, nn, 1), default)


def hierarchical_rate(k, n, sku, n_sku, sku_cat, n_cat, *, default, cell=None, n_cell=0):
    """Rate per item shrunk toward its SKU, and the SKU's toward its category.

    With ``cell`` (the item's category x size label), the item's prior is the SKU rate times the
    category's size profile (pooled cell rate / category rate): in apparel the ends of the size
    ladder come back more often in every SKU, and shrinking them toward the SKU's average alone
    would bias exactly those sizes.

    Returns ``(rate_item, rate_sku, rate_cat, strength_sku, strength_item)``; strengths are per
    category, estimated by :func:`beta_strength` from the spread between SKUs and between sizes.
    """
    item_cat = sku_cat[sku]
    all_k, all_n = float(np.sum(k)), float(np.sum(n))
    glob = all_k / all_n if all_n > 0 else default
    k_sku = np.bincount(sku, weights=k, minlength=n_sku)
    n_sku_ = np.bincount(sku, weights=n, minlength=n_sku)
    cat_rate = pooled_rate(k_sku, n_sku_, sku_cat, n_cat, default=glob)
    m_cat = beta_strength(k_sku, n_sku_, cat_rate[sku_cat], sku_cat, n_cat)
    sku_rate = shrink(k_sku, n_sku_, cat_rate[sku_cat], m_cat[sku_cat])
    prior = sku_rate[sku]
    if cell is not None:
        kc = np.bincount(cell, weights=k, minlength=n_cell)
        nc = np.bincount(cell, weights=n, minlength=n_cell)
        # 50 pseudo-trials keep a thin cell's profile near 1 (no size effect).
        factor = (kc + 50 * cat_rate[item_cat_of(cell, item_cat, n_cell)]) / (
            (nc + 50) * np.maximum(cat_rate[item_cat_of(cell, item_cat, n_cell)], 1e-9))
        prior = np.clip(prior * factor[cell], 0.0, 0.99)
    m_sku = beta_strength(k, n, prior, item_cat, n_cat)
    item_rate = shrink(k, n, prior, m_sku[item_cat])
    return item_rate, sku_rate, cat_rate, m_cat, m_sku


def item_cat_of(cell, item_cat, n_cell):
    """Category of each cell, read off the items that fall in it."""
    out = np.zeros(n_cell, dtype=np.int64)
    out[cell] = item_cat
    return out


def dirichlet_shrink(counts, prior, strength):
    """``(counts + m prior) / (sum counts + m)`` row-wise, for a categorical distribution."""
    counts = np.asarray(counts, float)
    return (counts + strength * prior) / (counts.sum(axis=1, keepdims=True) + strength)
