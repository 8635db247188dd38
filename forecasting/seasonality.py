"""Pooled seasonality: a multiplicative 52-week index per category, for series too short to
have their own.

A series needs two seasons of history before a seasonal model of its own can be fitted, yet a
product launched in spring still sells more at Christmas if its category does. The index is
estimated from the category's weekly total: each week over the mean of the nearest full year
around it (a moving annual mean, which has no seasonality and follows the trend), summed per
week of the year with the two neighbouring weeks (the season moves by a few days each year),
and shrunk toward flat with :data:`STRENGTH` pseudo-units, so a week backed by few sales stays
near 1. Short series are divided by the index, forecast with the usual kernels and multiplied
back.
"""

from __future__ import annotations

import numpy as np

SEASON = 52
STRENGTH = 200.0  # pseudo-units of "flat" behind each week of the index
MAX_FACTOR = 5.0  # no week of a category sells more than 5x (or less than 1/5) its annual mean


def category_index(tot, *, start_week: int, strength: float = STRENGTH) -> np.ndarray:
    """``(n_cat, 52)`` multiplicative index, column ``w`` for weeks with ``week % 52 == w``.

    Args:
        tot: ``(n_cat, T)`` weekly units per category (its series summed).
        start_week: week number of column 0 (fixes which week of the year each column is).
        strength: pseudo-units pulling each week toward 1.

    Returns all ones where there is less than one full season of history.
    """
    n_cat, T = tot.shape
    index = np.ones((n_cat, SEASON))
    if T < SEASON or n_cat == 0:
        return index
    tot = np.asarray(tot, np.float64)
    c = np.concatenate([np.zeros((n_cat, 1)), np.cumsum(tot, axis=1)], axis=1)
    a = np.clip(np.arange(T) - SEASON // 2, 0, T - SEASON)
    level = (c[:, a + SEASON] - c[:, a]) / SEASON
    woy = (start_week + np.arange(T)) % SEASON
    act = np.zeros((n_cat, SEASON))
    base = np.zeros((n_cat, SEASON))
    for w in range(SEASON):
        cols = woy == w
        act[:, w] = tot[:, cols].sum(axis=1)
        base[:, w] = level[:, cols].sum(axis=1)
    act = act + np.roll(act, 1, axis=1) + np.roll(act, -1, axis=1)
    base = base + np.roll(base, 1, axis=1) + np.roll(base, -1, axis=1)
    index = (act + strength) / (base + strength)
    index = index / index.mean(axis=1, keepdims=True)
    return np.clip(index, 1 / MAX_FACTOR, MAX_FACTOR)


def factors(index, cat, *, start_week: int, n_weeks: int) -> np.ndarray:
    """``(len(cat), n_weeks)``: the index of each row's category, columns from ``start_week``."""
    woy = (start_week + np.arange(n_weeks)) % SEASON
    return index[cat][:, woy]
