"""Turn what the database holds into the forecasting library's packed arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from forecasting.panel import GRADES, REASONS, ItemParams, ReturnsData, SalesPanel, StockPosition

from ..persistence.repositories.planning import week_of


@dataclass(frozen=True)
class ForecastConfig:
    """config/forecasting.toml, typed."""

    history_weeks: int = 104
    horizon_weeks: int = 13
    review_period_weeks: int = 1
    replenish_location: str = ""
    workers: int = 1
    executor: str = "local"
    dask_partitions: int = 8
    return_window_weeks: int = 8
    interval_level: float = 0.8
    default_restockable: float = 0.8
    service_levels: dict[str, float] | None = None
    moq_rule: str = "raise"
    moq_threshold: float = 0.5
    schedule: dict[str, Any] | None = None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ForecastConfig:
        run = doc.get("run", {})
        ordering = doc.get("ordering", {})
        known = {f for f in cls.__dataclass_fields__}
        return cls(
            **{k: v for k, v in run.items() if k in known},
            service_levels={k: float(v) for k, v in doc.get("service_levels", {}).items()},
            moq_rule=ordering.get("moq_rule", "raise"),
            moq_threshold=float(ordering.get("moq_threshold", 0.5)),
            schedule=doc.get("schedule", {}),
        )

    def service_level(self, category: str) -> float:
        levels = self.service_levels or {}
        return levels.get(category, levels.get("default", 0.95))


@dataclass
class PlanningInputs:
    item_ids: np.ndarray  # database id per panel row
    sales: SalesPanel
    returns: ReturnsData
    stock: StockPosition
    items: ItemParams
    unit_cost: np.ndarray
    as_of: date

    @property
    def origin_monday(self) -> date:
        """Monday of the first forecast week."""
        from ..persistence.repositories.planning import monday_of

        return monday_of(self.sales.last_week + 1)


def last_complete_week(as_of: date) -> int:
    """The last week fully observed on the morning of `as_of`."""
    return week_of(as_of - timedelta(days=1)) if as_of.weekday() == 0 else week_of(as_of) - 1


def load_inputs(uow, config: ForecastConfig, as_of: date) -> PlanningInputs:
    """Read everything the run needs with a handful of set-based queries."""
    planning = uow.planning
    last = last_complete_week(as_of)
    first = last - config.history_weeks + 1
    catalogue = planning.planning_items()
    n = len(catalogue)
    item_ids = np.fromiter((r.id for r in catalogue), dtype=np.int64, count=n)
    row_of = {int(item_id): row for row, item_id in enumerate(item_ids)}
    ids = np.asarray([f"{r.sku}|{r.size}" for r in catalogue], dtype=str)

    # Millions of (item, week) rows: index them with arrays, never row by row in Python.
    lookup = np.full(int(item_ids.max(initial=0)) + 1, -1, dtype=np.int64)
    lookup[item_ids] = np.arange(n)
    # Plain tuples first: numpy probing each SQLAlchemy Row for array protocols raises and
    # catches several KeyErrors per row, which cost seconds per million rows.
    weekly = np.asarray([tuple(r) for r in planning.weekly_sales(first, last)],
                        dtype=np.float64).reshape(-1, 3)
    flat = lookup[weekly[:, 0].astype(np.int64)] * config.history_weeks + (
        weekly[:, 1].astype(np.int64) - first
    )
    y = np.bincount(flat, weights=weekly[:, 2], minlength=n * config.history_weeks)
    sales = SalesPanel(
        ids=ids, y=y.reshape(n, config.history_weeks).astype(np.float32), start_week=first
    )

    returned = [r for r in planning.received_returns(first, last) if r[0] in row_of]
    reasons = [r[3] if r[3] in REASONS else "other" for r in returned]
    grades = [r[4] if r[4] in GRADES else "" for r in returned]
    returns = ReturnsData(
        series=np.asarray([row_of[r[0]] for r in returned], dtype=np.int64),
        sale_week=np.asarray([int(r[1]) for r in returned], dtype=np.int64),
        receipt_week=np.asarray([int(r[2]) for r in returned], dtype=np.int64),
        reason=np.asarray([REASONS.index(x) for x in reasons], dtype=np.int8),
        grade=np.asarray([GRADES.index(g or "") for g in grades], dtype=np.int8),
        units=np.asarray([float(r[5]) for r in returned], dtype=np.float32),
    )

    on_hand, reserved, in_transit = np.zeros(n), np.zeros(n), np.zeros(n)
    for item_id, sellable, held, quarantined in planning.stock_positions():
        row = row_of[item_id]
        on_hand[row], reserved[row] = float(sellable or 0), float(held or 0)
        # Units waiting to be graded will mostly come back to stock, like those in transit.
        in_transit[row] += float(quarantined or 0)
    for item_id, units in planning.returns_in_transit():
        in_transit[row_of[item_id]] += float(units or 0)
    orders = [(row_of[i], int(w), float(u)) for i, w, u in planning.open_purchase_orders()
              if u and u > 0]
    stock = StockPosition(
        on_hand=on_hand, reserved=reserved, returns_in_transit=in_transit,
        on_order_series=np.asarray([o[0] for o in orders], dtype=np.int64),
        on_order_week=np.asarray([o[1] for o in orders], dtype=np.int64),
        on_order_units=np.asarray([o[2] for o in orders], dtype=np.float64),
    )

    unit_cost = np.asarray([float(r.unit_cost) for r in catalogue], dtype=np.float64)
    items = ItemParams(
        category=np.asarray([r.category for r in catalogue], dtype=object),
        lead_time=np.asarray([max(1, math.ceil(r.lead_time_days / 7)) for r in catalogue],
                             dtype=np.int64),
        review_period=np.full(n, config.review_period_weeks, dtype=np.int64),
        case_pack=np.asarray([r.case_pack for r in catalogue], dtype=np.int64),
        moq=np.asarray([r.min_order_qty for r in catalogue], dtype=np.int64),
        unit_cost=unit_cost,
        service_level=np.asarray([config.service_level(r.category) for r in catalogue]),
    )
    return PlanningInputs(item_ids, sales, returns, stock, items, unit_cost, as_of)
