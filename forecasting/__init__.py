"""Demand, returns and replenishment for apparel SKU x size series; numpy and statsmodels only.

The entry point is :class:`Planner` (or :func:`run_pipeline`): packed panels in
(:class:`SalesPanel`, :class:`ReturnsData`, :class:`StockPosition`, :class:`ItemParams`),
a :class:`PlanResult` of per-series dataclasses with ``to_records()`` out. Nothing here imports a
web framework or a database driver; importing the package does no work.
"""

from forecasting.demand import DemandOptions
from forecasting.panel import (
    GRADES,
    REASONS,
    ItemParams,
    ReturnsData,
    SalesPanel,
    StockPosition,
    split_ids,
)
from forecasting.pipeline import Planner, run_pipeline
from forecasting.replenishment import ReplenishmentOptions
from forecasting.results import DemandForecast, PlanResult, ReplenishmentPlan, ReturnEstimates

__all__ = [
    "GRADES", "REASONS", "DemandForecast", "DemandOptions", "ItemParams", "PlanResult", "Planner",
    "ReplenishmentOptions", "ReplenishmentPlan", "ReturnEstimates", "ReturnsData", "SalesPanel",
    "StockPosition", "run_pipeline", "split_ids",
]
