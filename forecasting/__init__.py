"""Demand, returns and replenishment for apparel SKU x size series; numpy and statsmodels only.

The entry point is :class:`Planner` (or :func:`run_pipeline`): packed panels in
(:class:`SalesPanel`, :class:`ReturnsData`, :class:`StockPosition`, :class:`ItemParams`),
a :class:`PlanResult` of per-series dataclasses with ``to_records()`` out. Nothing here imports a
web framework or a database driver; importing the package does no work. For demand alone,
:class:`DemandModel` (``fit()``, then ``forecast(h, level=[80, 95])``); :mod:`forecasting.frames`
reads and writes statsforecast-style long frames (optional).
"""

import importlib

# Public names and the module each lives in. They load on first use (PEP 562), so a program
# that only needs the panel types does not pay for scipy and statsmodels at start-up.
_HOMES = {
    "DemandOptions": "forecasting.demand",
    "DemandFit": "forecasting.demand_model", "DemandModel": "forecasting.demand_model",
    "DemandPrediction": "forecasting.demand_model",
    "GRADES": "forecasting.panel", "REASONS": "forecasting.panel",
    "ItemParams": "forecasting.panel", "ReturnsData": "forecasting.panel",
    "SalesPanel": "forecasting.panel", "StockPosition": "forecasting.panel",
    "split_ids": "forecasting.panel",
    "Planner": "forecasting.pipeline", "run_pipeline": "forecasting.pipeline",
    "ReplenishmentOptions": "forecasting.replenishment",
    "DemandForecast": "forecasting.results", "PlanResult": "forecasting.results",
    "ReplenishmentPlan": "forecasting.results", "ReturnEstimates": "forecasting.results",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'forecasting' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "GRADES", "REASONS", "DemandFit", "DemandForecast", "DemandModel", "DemandOptions",
    "DemandPrediction", "ItemParams", "PlanResult", "Planner",
    "ReplenishmentOptions", "ReplenishmentPlan", "ReturnEstimates", "ReturnsData", "SalesPanel",
    "StockPosition", "run_pipeline", "split_ids",
]
