"""New products: post-launch lifecycle profiles learned from earlier launches of the category.

In fashion most SKUs are new each season, and a new product's sales rise and decay after launch;
a moving average of its first weeks runs high. For every SKU launched inside the panel (after
:data:`LEFT_GUARD` weeks) and old enough to have a full profile (``weeks`` weeks since launch),
its sales by week since launch are divided by its total: the category's profile is the mean of
these shapes (every analogue counts once, so one best-seller does not set the shape), shrunk
toward the all-category profile with :data:`CATEGORY_STRENGTH` pseudo-products. Where a category
also has analogues launched in the same half of the year, a category x launch-season profile is
shrunk toward the category's the same way.

A SKU younger than the profile (``age`` weeks sold so far) is forecast as ``level * p[age + h]``,
where the level blends its own sales so far with the category's typical (median) launch total
``mu``, a gamma-Poisson posterior mean: ``(sold + a) / (P[age] + a / mu)``, ``P[age]`` the share
of a lifetime the profile says is already sold and ``a`` (:data:`LEVEL_PRIOR_UNITS`) the units
the prior is worth. Launch totals are spread over orders of magnitude, so the prior is worth a
single unit: it decides only while a product has sold next to nothing. A SKU with no sales yet
gets the planned launch quantity where the caller gives one, else ``mu``.

Where the launch is not known and is taken to be the first sale, that week was picked for having
a sale: a slow seller's first week is always at least one unit, its later weeks often none, so
its own first week overstates its level (and the decay after it). Once a product has later
weeks, its level is read from them alone: the first week's units and the profile's share of
that week both leave the ratio.

Optionally (``DemandOptions(lifecycle_season=True)``) a category's launches may follow its
season: its profile is then learned on sales divided by the category's seasonal index to a
power between 0 and 1 that its own earlier launches, forecast with the index known at the time,
backtest best with (:mod:`forecasting.lifecycle_season`), and the forecast is
multiplied back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.classify import first_sale
from forecasting.lifecycle_season import SEASON, choose_power

PROFILE_WEEKS = 26
CATEGORY_STRENGTH = 10.0   # pseudo-products behind the all-category shape in a category's profile
SEASON_STRENGTH = 10.0     # pseudo-products behind the category's shape in a launch season's
LEVEL_PRIOR_UNITS = 1.0    # what the planned or typical launch is worth before a first sale
MAX_PRIOR_SHAPE = 100.0    # launches all alike: the prior is still worth no more than this
MIN_ANALOGUES = 20         # fewer earlier launches in the whole panel: no profiles at all
HALF_YEAR = 26
# A first sale in the panel's first weeks may be an old product that had a quiet week: only
# launches at least this many weeks in are analogues (the others are censored on the left).
LEFT_GUARD = 8


@dataclass
class Profiles:
    """Lifecycle profiles learned from analogues.

    Attributes:
        shape: ``(n_cat, 2, weeks)`` expected share of a lifetime's units in each week since
            launch, per category and launch half-year (already shrunk).
        analogues: ``(n_cat, 2)`` analogues behind each profile (the category's own count where
            its season had none).
        seasonal: ``(n_cat, 2)`` True where the launch season had analogues of its own.
        launch_total: ``(n_cat,)`` median units an analogue sold over the profile's weeks.
        cv2: squared coefficient of variation of an analogue's week around its profile, beyond
            Poisson noise (big sellers are lumpy in proportion to their size, not to its root).
        prior_mean: ``(n_cat,)`` mean lifetime units of a launch (the gamma prior's mean).
        prior_shape: the gamma prior's shape, in units its mean is worth.
    """

    shape: np.ndarray
    analogues: np.ndarray
    seasonal: np.ndarray
    launch_total: np.ndarray
    cv2: float
    prior_mean: np.ndarray
    prior_shape: float
    power: np.ndarray | None = None
    season: np.ndarray | None = None

    def factors(self, cat, cols, *, start_week: int) -> np.ndarray:
        """``season[cat, week of year] ** power[cat]`` at columns ``cols`` (ones without a
        season): how much of the category's calendar a launch's weeks carry."""
        cols = np.asarray(cols)
        if self.season is None or self.power is None:
            return np.ones(cols.shape)
        cat = np.asarray(cat).reshape(cat.shape + (1,) * (cols.ndim - np.ndim(cat)))
        return self.season[cat, (start_week + cols) % SEASON] ** self.power[cat]

    @property
    def weeks(self) -> int:
        return self.shape.shape[2]


def launch_half(week) -> np.ndarray:
    """0 for launches in the first half of the 52-week year of the panel's numbering, else 1."""
    return (np.asarray(week) % 52) // HALF_YEAR


def fit_profiles(y, launch, cat, n_cat, *, start_week: int = 0, weeks: int = PROFILE_WEEKS,
                 season=None, y_cat=None, inferred=None) -> Profiles | None:
    """Learn profiles from the rows of ``y`` (one per SKU) launched inside the panel.

    Args:
        y: ``(n, T)`` weekly units per SKU.
        launch: ``(n,)`` launch column per SKU (first sale, or the known launch date).
        cat: ``(n,)`` category code per SKU.
        start_week: week number of column 0 (for the launch half-year).
        season: ``(n_cat, 52)`` category seasonal index, or None: then launches follow their
            age alone. With it, each category's profile is learned on its analogues' sales
            divided by the index to a power chosen per category
            (:func:`forecasting.lifecycle_season.choose_power`).
        y_cat: ``(n_cat, T)`` weekly units per category, which the choice re-estimates the
            index from as it was known at each backtest origin (needed with ``season``).
        inferred: ``(n,)`` True where the launch is the first sale (see :func:`forecast_young`).

    Returns:
        :class:`Profiles`, or None when the panel holds fewer than :data:`MIN_ANALOGUES`.
    """
    _n, T = y.shape
    ana = np.flatnonzero((launch >= LEFT_GUARD) & (launch + weeks <= T))
    if ana.size < MIN_ANALOGUES:
        return None
    cols = launch[ana, None] + np.arange(weeks)[None, :]
    life = np.take_along_axis(y[ana], cols, axis=1).astype(np.float64)
    total = life.sum(axis=1)
    keep = total > 0
    ana, life, total, cols = ana[keep], life[keep], total[keep], cols[keep]
    if ana.size < MIN_ANALOGUES:
        return None
    half = launch_half(start_week + launch[ana])
    c = cat[ana]
    n_c = np.bincount(c, minlength=n_cat).astype(float)
    cell = c * 2 + half
    n_s = np.bincount(cell, minlength=2 * n_cat).astype(float).reshape(n_cat, 2)
    power = np.zeros(n_cat)
    if season is None or y_cat is None:
        season = None
        prof = _profiles(life, c, cell, n_cat, weeks)
    else:
        season = np.asarray(season, np.float64)
        inf = np.zeros(ana.size, bool) if inferred is None else np.asarray(inferred, bool)[ana]
        power, prof = choose_power(life, cols, c, cell, n_cat, weeks, season,
                                   start_week=start_week, inferred=inf, y_cat=y_cat,
                                   profiles=_profiles, strength=CATEGORY_STRENGTH)
    launch_total = np.full(n_cat, float(np.median(total)))
    for k in np.flatnonzero(n_c >= 5):  # a category's own median once it has a few launches
        launch_total[k] = np.median(total[c == k])
    # Gamma prior of a launch's lifetime units (empirical Bayes, method of moments): its mean
    # per category shrunk toward all launches', its shape 1/cv^2 from the spread of all
    # launches beyond Poisson noise. Launch sizes span orders of magnitude, so the shape is
    # small and a product's own sales soon decide its level.
    m = float(total.mean())
    prior_mean = (np.bincount(c, weights=total, minlength=n_cat) + CATEGORY_STRENGTH * m) / (
        n_c + CATEGORY_STRENGTH)
    prior_shape = m * m / max(float(total.var()) - m, 1e-9 * m * m)
    # Week-to-week noise of analogues around their own profile-shaped fit, beyond Poisson.
    f = (np.ones_like(life) if season is None
         else season[c[:, None], (start_week + cols) % SEASON] ** power[c][:, None])
    fit = prof[c, half] * (life / f).sum(axis=1)[:, None] * f
    cv2 = float(max((((life - fit) ** 2).sum() - fit.sum()) / max((fit**2).sum(), 1e-9), 0.0))
    analogues = np.where(n_s > 0, n_s, n_c[:, None])
    return Profiles(shape=prof, analogues=analogues, seasonal=n_s > 0,
                    launch_total=launch_total, cv2=cv2, prior_mean=prior_mean,
                    prior_shape=min(prior_shape, MAX_PRIOR_SHAPE), power=power,
                    season=season)


def _profiles(life, c, cell, n_cat, weeks):
    """``(n_cat, 2, weeks)`` profiles: mean lifetime shapes per category shrunk toward all
    categories', per category x launch half shrunk toward the category's."""
    total = np.maximum(life.sum(axis=1), 1e-12)
    shape = life / total[:, None]
    glob = shape.mean(axis=0)
    n_c = np.bincount(c, minlength=n_cat).astype(float)
    sum_c = np.stack([np.bincount(c, weights=shape[:, a], minlength=n_cat)
                      for a in range(weeks)], axis=1)
    by_cat = (sum_c + CATEGORY_STRENGTH * glob) / (n_c + CATEGORY_STRENGTH)[:, None]
    n_s = np.bincount(cell, minlength=2 * n_cat).astype(float).reshape(n_cat, 2)
    sum_s = np.stack([np.bincount(cell, weights=shape[:, a], minlength=2 * n_cat)
                      for a in range(weeks)], axis=1).reshape(n_cat, 2, weeks)
    return (sum_s + SEASON_STRENGTH * by_cat[:, None, :]) / (n_s + SEASON_STRENGTH)[:, :, None]


def forecast_young(prof: Profiles, y, launch, cat, horizon: int, *, start_week: int = 0,
                   planned=None, inferred=None) -> dict:
    """Forecast SKUs younger than the profile from the profile and their own weeks so far.

    Args:
        prof: from :func:`fit_profiles`.
        y: ``(n, T)`` weekly units of the SKUs to forecast; launch: ``(n,)`` launch column
            (may be ``>= T`` for a launch still ahead); cat: ``(n,)`` category code.
        planned: ``(n,)`` planned launch quantity (units over the profile's weeks), NaN or 0
            where there is none; used only before the first sale.
        inferred: ``(n,)`` True where the launch is the first sale rather than a known date:
            that week was picked for having a sale, so once later weeks exist it is left out
            of the product's level (its units and its share of the profile alike).

    Returns:
        ``forecast (n, horizon)``, ``sigma (n,)``, ``age (n,)``, ``level (n,)``.
    """
    n, T = y.shape
    W = prof.weeks
    half = launch_half(start_week + launch)
    shape = prof.shape[cat, half]                       # (n, W)
    # Beyond the profile the product sells at the mean rate of its last four profile weeks.
    tail = shape[:, -4:].mean(axis=1, keepdims=True)
    age = np.clip(T - launch, 0, None)
    steps = age[:, None] + np.arange(horizon)[None, :]  # weeks since launch of each forecast week
    ahead = np.take_along_axis(shape, np.minimum(steps, W - 1), axis=1)
    ahead = np.where(steps >= W, tail, ahead)
    before = np.arange(horizon)[None, :] < (launch - T)[:, None]  # weeks before a future launch
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(shape, axis=1)], axis=1)
    seen = cum[np.arange(n), np.minimum(age, W)]         # share of a lifetime already behind
    cols = np.arange(T)[None, :] >= launch[:, None]
    f_past = prof.factors(cat, np.arange(T)[None, :], start_week=start_week)
    unsold = np.where(cols, y, 0).sum(axis=1, dtype=np.float64) <= 0
    # Units so far in the profile's terms: divided by the share of the category's season the
    # category's launches follow (none where they follow their age alone).
    yd = y / f_past
    sold = np.where(cols, yd, 0).sum(axis=1, dtype=np.float64)
    if inferred is not None:
        skip = np.flatnonzero(np.asarray(inferred, bool) & (age >= 2))
        sold[skip] -= yd[skip, launch[skip]]
        seen[skip] -= shape[skip, 0]
    ahead = ahead * prof.factors(cat, T + np.arange(horizon)[None, :], start_week=start_week)
    # Before the first sale the level is the plan, else the category's typical launch; after
    # it, the gamma-Poisson posterior mean: own units over the lifetime share behind, blended
    # with the prior's mean by the prior's shape.
    mu = np.where(unsold, prof.launch_total[cat], prof.prior_mean[cat])
    a = np.where(unsold, LEVEL_PRIOR_UNITS, prof.prior_shape)
    if planned is not None:
        planned = np.nan_to_num(np.asarray(planned, np.float64), nan=0.0)
        mu = np.where(unsold & (planned > 0), planned, mu)
    level = (sold + a) / (seen + a / np.maximum(mu, 1e-9))
    fc = np.where(before, 0.0, level[:, None] * ahead)
    mean = fc.mean(axis=1)
    # Poisson noise and the analogues' extra lumpiness of the weeks themselves, plus the
    # uncertainty of the level (Poisson on the units sold so far), which shrinks as the
    # product's own sales accumulate: younger products get wider intervals.
    var = mean + prof.cv2 * mean**2 + mean**2 / (sold + a)
    return {"forecast": fc, "sigma": np.sqrt(var), "age": age, "level": level}


def new_products(y_sku, sku, sku_cat, n_cat, *, start_week: int, weeks: int, horizon: int,
                 launched_week=None, launch_quantity=None, on_order=None,
                 season=None, y_cat=None) -> dict | None:
    """Lifecycle forecasts of the SKUs of a panel of sizes that are younger than ``weeks``.

    Args:
        y_sku: ``(n_sku, T)`` weekly units per SKU (its sizes summed); sku: ``(n,)`` SKU code
            per size row.
        sku_cat: ``(n_sku,)`` category of each SKU.
        launched_week: ``(n,)`` known launch week per row (NaN = unknown: the first sale).
        launch_quantity, on_order: ``(n,)`` planned launch units and open order units per row;
            summed per SKU, they set the level before the first sale (planned first).

    Returns:
        None without enough analogues, else ``sku`` (codes forecast), ``forecast (k, horizon)``
        and ``sigma (k,)`` per SKU, and ``profile`` (words: which profile, how many analogues,
        weeks since launch).
    """
    n_sku, T = y_sku.shape
    first = first_sale(y_sku)
    launch, known = first.copy(), np.zeros(n_sku, bool)
    if launched_week is not None:
        col = np.asarray(launched_week, np.float64) - start_week
        lk = np.full(n_sku, np.inf)
        has = np.isfinite(col)
        np.minimum.at(lk, sku[has], col[has])
        known = np.isfinite(lk)
        launch = np.where(known, np.clip(np.nan_to_num(lk, posinf=0), -T, 10 * T),
                          first).astype(np.int64)
    rel = np.flatnonzero(launch > 0)  # launched inside the panel (or ahead of it)
    if rel.size == 0:
        return None
    y_sub = y_sku[rel]
    prof = fit_profiles(y_sub, launch[rel], sku_cat[rel], n_cat, start_week=start_week,
                        weeks=weeks, season=season, y_cat=y_cat, inferred=~known[rel])
    if prof is None:
        return None
    young = (launch[rel] > T - weeks) & ((first[rel] < T) | known[rel])
    yk = rel[young]
    planned = np.zeros(n_sku)
    if launch_quantity is not None:
        planned += np.bincount(sku, weights=np.nan_to_num(np.asarray(launch_quantity, float)),
                               minlength=n_sku)
    if on_order is not None:
        planned = np.where(planned > 0, planned,
                           np.bincount(sku, weights=on_order, minlength=n_sku))
    res = forecast_young(prof, y_sub[young], launch[yk], sku_cat[yk], horizon,
                         start_week=start_week, planned=planned[yk], inferred=~known[yk])
    half = launch_half(start_week + launch[yk])
    c = sku_cat[yk]
    words = [("launch half " + str(h + 1) + " " if prof.seasonal[ci, h] else "")
             + f"lifecycle profile ({prof.analogues[ci, h]:.0f} analogues), "
             f"week {int(a) + 1} since launch"
             + (f", times the category's season to the power {prof.power[ci]:g}"
                if prof.power is not None and prof.power[ci] > 0 else "")
             for ci, h, a in zip(c.tolist(), half.tolist(), res["age"].tolist(), strict=True)]
    return {"sku": yk, "forecast": res["forecast"], "sigma": res["sigma"], "profile": words}
