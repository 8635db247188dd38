"""Whether a category's launches follow its season: the power of its seasonal index that its
own earlier launches backtest best with (used by :mod:`forecasting.lifecycle` when
``DemandOptions(lifecycle_season=True)``).

A profile of raw sales by week since launch carries its analogues' calendar along: where a
category sells through a yearly cycle, a product launched in spring is forecast with the shape
of launches from any time of the year. Learned on sales divided by the category's index, and
multiplied back, the profile follows the product's own calendar; but not every category's
launches follow its season (the season of a category's total may be that of its old products).
So each category's power, 0 (age alone) to 1 (age times the season), is chosen on its own
analogues, forecast as young products would be, with the index as it was known at the time.
"""

from __future__ import annotations

import numpy as np

from forecasting.seasonality import category_index

SEASON = 52
# Powers of the category's seasonal index tried on its own earlier launches (0: launches sell
# by their age alone; 1: by age times the category's season).
POWERS = (0.0, 0.25, 0.5, 0.75, 1.0)
BACKTEST_AGES = (4, 8, 13)  # weeks of an analogue's life seen before each backtest forecast
BACKTEST_WEEKS = 13         # ... and weeks forecast after them
INDEX_EVERY = 13            # the backtest's index is re-estimated every this many weeks


def choose_power(life, cols, c, cell, n_cat, weeks, season, *, start_week, inferred, y_cat,
                 profiles, strength):
    """Per category, the power of its seasonal index its own launches follow, and the profiles.

    For each power in :data:`POWERS` the profiles are learned on the analogues' sales divided
    by the index to that power; then every analogue is forecast as a young product would be,
    at :data:`BACKTEST_AGES` weeks after its launch, from its own weeks before (its level)
    and the profile times the index to that power (its weeks after, held out of its level),
    and scored by squared error relative to its lifetime units (squared: it is least at the
    mean, where an absolute error on lumpy sales favours whichever power forecasts lowest;
    relative: every launch counts once, whatever its size). A category takes the
    power with the least error, its own analogues' errors shrunk toward all categories' with
    ``strength`` pseudo-analogues: a category whose launches follow its season (a Christmas
    range) deseasonalises, one whose launches sell by age alone does not.

    Args:
        life: ``(k, weeks)`` each analogue's units by week since launch, at columns ``cols``;
            c, cell: its category and category x launch-half cell; inferred: ``(k,)`` True
            where its launch is its first sale (that week is left out of its level).
        season: ``(n_cat, 52)`` the category index; y_cat: ``(n_cat, T)`` category totals.
        profiles: ``profiles(life, c, cell, n_cat, weeks)`` -> ``(n_cat, 2, weeks)`` shapes.

    Returns:
        ``power (n_cat,)`` and the profiles learned at each category's power.
    """
    woy = (start_week + cols) % SEASON
    s_cal = season[c[:, None], woy]                             # (k, weeks)
    cuts = np.arange(SEASON, y_cat.shape[1] + 1, INDEX_EVERY)
    if cuts.size == 0:  # under a season of history: nothing to test the index on
        return np.zeros(n_cat), profiles(life, c, cell, n_cat, weeks)
    past = np.stack([category_index(y_cat[:, :k], start_week=start_week) for k in cuts])
    inf = inferred[:, None]
    # Relative to the analogue's lifetime units, not to its units in the weeks scored (that
    # would favour the power that forecasts lowest).
    total = np.maximum(life.sum(axis=1), 1.0)
    # The index each backtest forecast may use is the one known at its origin, estimated from
    # the category totals before it (re-estimated every INDEX_EVERY weeks), so the choice is
    # judged on the season as forecast, not as fitted to the same weeks. Forecasts made before
    # a full season of history have no index to test and are left out of the comparison.
    held, scored = {}, {}
    for a in BACKTEST_AGES:
        k = np.searchsorted(cuts, cols[:, 0] + a, side="right") - 1
        scored[a] = k >= 0
        held[a] = np.where(scored[a][:, None], past[np.maximum(k, 0)[:, None], c[:, None], woy],
                           1.0)
    errs, profs = [], []
    for p in POWERS:
        f = s_cal**p
        prof = profiles(life / f, c, cell, n_cat, weeks)
        shape = prof[cell // 2, cell % 2]                       # (k, weeks)
        err = np.zeros(len(life))
        for a in BACKTEST_AGES:
            h = min(BACKTEST_WEEKS, weeks - a)
            fa = held[a] ** p
            skip = inf & (np.arange(weeks)[None, :] == 0)        # the first-sale week
            seen = np.where(skip, 0, shape)[:, :a].sum(axis=1)
            sold = np.where(skip, 0, life / fa)[:, :a].sum(axis=1)
            level = sold / np.maximum(seen, 1e-12)
            fc = level[:, None] * shape[:, a : a + h] * fa[:, a : a + h]
            act = life[:, a : a + h]
            err += np.where(scored[a], ((fc - act) ** 2).sum(axis=1) / total**2, 0.0)
        errs.append(np.bincount(c, weights=err, minlength=n_cat))
        profs.append(prof)
    e = np.stack(errs, axis=1)                                  # (n_cat, n_powers)
    n_scored = sum(scored[a].astype(float) for a in BACKTEST_AGES)
    n_c = np.bincount(c, weights=n_scored, minlength=n_cat)[:, None]
    if n_c.sum() == 0:
        return np.zeros(n_cat), profs[0]
    mean_all = e.sum(axis=0, keepdims=True) / n_c.sum()
    best = np.argmin((e + strength * mean_all) / (n_c + strength), axis=1)
    prof = np.stack(profs, axis=0)[best, np.arange(n_cat)]
    return np.asarray(POWERS)[best], prof
