"""Vectorised forecasting kernels: each fits many series at once over a ``(n, T)`` array.

Every kernel has the signature ``kernel(y, start, horizon) -> MethodFit``: ``y`` holds the
history, ``start`` the first column that counts per row (leading zeros before a launch are
skipped), and the result carries the point forecast, the in-sample one-step error, the smoothing
constant that drives how fast the interval widens, and an ``ok`` mask. A row whose fit overflows or
produces NaN is marked not ok instead of raising, so one odd series never aborts a batch.
"""

from forecasting.models.base import MethodFit
from forecasting.models.baselines import moving_average, seasonal_naive
from forecasting.models.intermittent import adida, croston, sba, tsb
from forecasting.models.smoothing import damped, holt, holt_winters, ses
from forecasting.models.theta import theta

METHODS = {
    "ses": ses,
    "holt": holt,
    "damped": damped,
    "ets_seasonal": holt_winters,
    "theta": theta,
    "croston": croston,
    "sba": sba,
    "tsb": tsb,
    "adida": adida,
    "seasonal_naive": seasonal_naive,
    "moving_average": moving_average,
}
"""Kernel per method name; the order is the tie-break order (simpler first is not implied)."""

# When a chosen model fails on a series, the series falls back along this chain.
FALLBACK = {
    "ets_seasonal": "damped",
    "damped": "ses",
    "holt": "ses",
    "theta": "ses",
    "ses": "moving_average",
    "croston": "moving_average",
    "sba": "moving_average",
    "tsb": "moving_average",
    "adida": "moving_average",
    "seasonal_naive": "moving_average",
    "moving_average": None,
}

__all__ = [
    "FALLBACK",
    "METHODS",
    "MethodFit",
    "croston",
    "damped",
    "holt",
    "holt_winters",
    "moving_average",
    "sba",
    "seasonal_naive",
    "ses",
    "theta",
    "tsb",
]
