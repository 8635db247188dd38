"""Demand classification by average demand interval (ADI) and squared coefficient of variation.

Syntetos, Boylan & Croston (2005) cut-offs: ADI 1.32 and CV^2 0.49 split series into smooth,
erratic, intermittent and lumpy. Intermittent and lumpy series get Croston-type models and a
quantile safety stock, because the normal approximation is poor for mostly-zero demand.
"""

from __future__ import annotations

import numpy as np

SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NO_DEMAND = range(5)
CLASS_NAMES = ("smooth", "erratic", "intermittent", "lumpy", "no_demand")
ADI_CUTOFF = 1.32
CV2_CUTOFF = 0.49


def first_sale(y: np.ndarray) -> np.ndarray:
    """Column of the first non-zero week per row (``T`` when the row is all zero)."""
    nz = y > 0
    return np.where(nz.any(axis=1), nz.argmax(axis=1), y.shape[1])


def adi_cv2(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ADI and CV^2 of the non-zero demands, per row, counted from the first sale.

    Leading zeros are ignored because a product launched late is not intermittent.
    """
    T = y.shape[1]
    start = first_sale(y)
    active = T - start
    nz = y > 0
    n_nz = nz.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(n_nz > 0, active / np.maximum(n_nz, 1), np.inf)
        s1 = np.where(nz, y, 0).sum(axis=1, dtype=np.float64)
        s2 = np.where(nz, y.astype(np.float64) ** 2, 0).sum(axis=1)
        mean = s1 / np.maximum(n_nz, 1)
        var = s2 / np.maximum(n_nz, 1) - mean**2
        cv2 = np.where(n_nz > 0, np.maximum(var, 0) / np.maximum(mean, 1e-12) ** 2, np.inf)
    return adi, cv2


def classify(y: np.ndarray, *, adi_cutoff: float = ADI_CUTOFF,
             cv2_cutoff: float = CV2_CUTOFF) -> np.ndarray:
    """Class code per row (see :data:`CLASS_NAMES`); all-zero rows are ``NO_DEMAND``."""
    adi, cv2 = adi_cv2(y)
    cls = np.where(adi < adi_cutoff, np.where(cv2 < cv2_cutoff, SMOOTH, ERRATIC),
                   np.where(cv2 < cv2_cutoff, INTERMITTENT, LUMPY))
    return np.where(np.isinf(adi), NO_DEMAND, cls).astype(np.int8)
