"""Turn what the database holds into the forecasting library's packed arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from forecasting.panel import (
    GRADES,
    NO_GRADE,
    REASONS,
    ItemParams,
    ReturnsData,
    SalesPanel,
    StockPosition,
)

from ..domain.weeks import monday_of, week_of
from ..persistence.uow import UnitOfWork


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
    # Most workers (processes or Dask workers) a run may ask for; the scheduler runs it.
    max_workers: int = 4
    # A running run's process records a heartbeat this often; a run silent for longer
    # than lost_after_seconds is failed as lost and frees its leases.
    heartbeat_seconds: float = 30
    lost_after_seconds: float = 300
    return_window_weeks: int = 8
    interval_level: float = 0.8
    default_restockable: float = 0.8
    service_levels: dict[str, float] | None = None
    service_targets: dict[str, str] | None = None
    costs: dict[str, dict[str, float]] | None = None
    order_costs: dict[str, float] | None = None
    moq_rule: str = "raise"
    moq_threshold: float = 0.5
    fill_scope: str = "category"
    schedule: dict[str, Any] | None = None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ForecastConfig:
        run = doc.get("run", {})
        ordering = doc.get("ordering", {})
        known = {f for f in cls.__dataclass_fields__}
        bad = {k: v for k, v in doc.get("service_targets", {}).items()
               if v not in ("cycle", "fill", "cost")}
        if bad:  # said at start-up, not by the nightly run at 2 a.m.
            name, value = next(iter(bad.items()))
            raise ValueError(f"forecasting.toml [service_targets] {name} = {value!r}: expected "
                             "'cycle', 'fill' or 'cost'")
        scope = str(ordering.get("fill_scope", "category"))
        if scope not in ("category", "item"):
            raise ValueError(f"forecasting.toml [ordering] fill_scope = {scope!r}: expected "
                             "'category' or 'item'")
        return cls(
            **{k: v for k, v in run.items() if k in known},
            service_levels={k: float(v) for k, v in doc.get("service_levels", {}).items()},
            service_targets={k: str(v) for k, v in doc.get("service_targets", {}).items()},
            costs={k: {"holding": float(v.get("holding", 0.0)),
                       "shortage": float(v.get("shortage", 0.0))}
                   for k, v in doc.get("costs", {}).items()},
            order_costs={k: float(v) for k, v in doc.get("order_costs", {}).items()},
            moq_rule=ordering.get("moq_rule", "raise"),
            moq_threshold=float(ordering.get("moq_threshold", 0.5)),
            fill_scope=scope,
            schedule=doc.get("schedule", {}),
        )

    def service_level(self, category: str) -> float:
        levels = self.service_levels or {}
        return levels.get(category, levels.get("default", 0.95))

    def service_target(self, category: str) -> str:
        targets = self.service_targets or {}
        return targets.get(category, targets.get("default", "cycle"))

    def cost(self, category: str, which: str) -> float:
        costs = self.costs or {}
        return costs.get(category, costs.get("default", {})).get(which, 0.0)

    def order_cost(self, supplier: str | None) -> float:
        return (self.order_costs or {}).get(supplier or "", 0.0)


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
        return monday_of(self.sales.last_week + 1)


def last_complete_week(as_of: date) -> int:
    """The last week fully observed on the morning of `as_of`."""
    return week_of(as_of - timedelta(days=1)) if as_of.weekday() == 0 else week_of(as_of) - 1


def load_inputs(uow: UnitOfWork, config: ForecastConfig, as_of: date) -> PlanningInputs:
    """Read everything the run needs with a handful of set-based queries, in one snapshot.

    The big sets (weekly sales, returned units) are folded into the panel a block at a time
    as they arrive: at a million series the whole answers would be gigabytes of rows.
    """
    planning = uow.planning
    planning.read_one_snapshot()
    last = last_complete_week(as_of)
    first = last - config.history_weeks + 1
    catalogue = planning.planning_items()
    packer = Packer(catalogue, config, first)
    for block in planning.weekly_sales_blocks(first, last):
        packer.add_sales(block)
    for block in planning.received_returns_blocks(first, last, **RETURN_CODES):
        packer.add_returns(block)
    return packer.finish(planning, config, as_of)


# How reasons and grades travel from the database: as their index in the library's tuples.
RETURN_CODES: dict[str, Any] = dict(reasons=REASONS, other_reason=REASONS.index("other"),
                                    grades=GRADES, no_grade=NO_GRADE)


def pack_inputs(planning, config: ForecastConfig, as_of: date, catalogue, weekly: np.ndarray,
                returned: np.ndarray) -> PlanningInputs:
    """Arrays of the big reads (weekly sales, returns) plus the small ones, as the library's
    panel. Row order is the catalogue's, whatever order the big reads came back in."""
    packer = Packer(catalogue, config, last_complete_week(as_of) - config.history_weeks + 1)
    packer.add_sales(weekly)
    packer.add_returns(returned)
    return packer.finish(planning, config, as_of)


class Packer:
    """The panel of the catalogue's items, filled from blocks of the big reads in any order.

    Millions of (item, week) rows: indexed with arrays, never row by row in Python.
    """

    def __init__(self, catalogue, config: ForecastConfig, first_week: int):
        self.catalogue = catalogue
        self.first = first_week
        n = len(catalogue)
        self.item_ids = np.fromiter((r.id for r in catalogue), dtype=np.int64, count=n)
        self.lookup = np.full(int(self.item_ids.max(initial=0)) + 1, -1, dtype=np.int64)
        self.lookup[self.item_ids] = np.arange(n)
        self.y = np.zeros(n * config.history_weeks, dtype=np.float32)
        self.weeks = config.history_weeks
        # Returned units by column, compact until finish() widens them once.
        self.returned: list[list[np.ndarray]] = [[] for _ in range(6)]

    def rows_of(self, ids_read: np.ndarray) -> np.ndarray:
        """Panel row of each item id; -1 for items not in the catalogue."""
        known = ids_read < len(self.lookup)
        return np.where(known, self.lookup[np.where(known, ids_read, 0)], -1)

    def add_sales(self, weekly: np.ndarray) -> None:
        """(item_id, week, units) rows, one per item and week."""
        row = self.rows_of(weekly[:, 0])
        keep = row >= 0
        np.add.at(self.y, row[keep] * self.weeks + (weekly[keep, 1] - self.first),
                  weekly[keep, 2].astype(np.float32))

    def add_returns(self, returned: np.ndarray) -> None:
        """(item_id, sale week, receipt week, reason, grade, units) rows."""
        series = self.rows_of(returned[:, 0])
        keep = series >= 0
        for column, values in zip(self.returned, (series, *returned[:, 1:].T), strict=True):
            column.append(values[keep].astype(np.int32))

    def finish(self, planning, config: ForecastConfig, as_of: date) -> PlanningInputs:
        """The panel, with the small reads (stock, transit, orders) and item parameters."""
        catalogue, item_ids, rows_of = self.catalogue, self.item_ids, self.rows_of
        n = len(catalogue)
        ids = np.asarray([f"{r.sku}|{r.size}" for r in catalogue], dtype=str)
        sales = SalesPanel(ids=ids, y=self.y.reshape(n, self.weeks), start_week=self.first)

        def column(k: int, dtype) -> np.ndarray:
            parts, self.returned[k] = self.returned[k], []
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        returns = ReturnsData(
            series=column(0, np.int64), sale_week=column(1, np.int64),
            receipt_week=column(2, np.int64), reason=column(3, np.int8),
            grade=column(4, np.int8), units=column(5, np.float32),
        )
        on_hand, reserved, in_transit = np.zeros(n), np.zeros(n), np.zeros(n)
        awaiting = np.zeros(n)
        stock = planning.stock_positions()
        stock = stock[rows_of(stock[:, 0]) >= 0]
        at = rows_of(stock[:, 0])
        on_hand[at], reserved[at] = stock[:, 1], stock[:, 2]
        # Units in quarantine, waiting to be graded, will mostly come back to stock.
        awaiting[at] = stock[:, 3]
        transit = planning.returns_in_transit()
        transit = transit[rows_of(transit[:, 0]) >= 0]
        in_transit[rows_of(transit[:, 0])] += transit[:, 1]
        orders = planning.open_purchase_orders()
        orders = orders[(orders[:, 2] > 0) & (rows_of(orders[:, 0]) >= 0)]
        stock = StockPosition(
            on_hand=on_hand, reserved=reserved, returns_in_transit=in_transit,
            on_order_series=rows_of(orders[:, 0]), on_order_week=orders[:, 1],
            on_order_units=orders[:, 2].astype(np.float64), returns_awaiting_grading=awaiting,
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
            launched_week=np.asarray([np.nan if r.launched_on is None else week_of(r.launched_on)
                                      for r in catalogue], dtype=np.float64),
            service_target=np.asarray([config.service_target(r.category) for r in catalogue],
                                      dtype=object),
            holding_cost=np.asarray([config.cost(r.category, "holding") for r in catalogue]),
            shortage_cost=np.asarray([config.cost(r.category, "shortage") for r in catalogue]),
            order_cost=np.asarray([config.order_cost(r.supplier) for r in catalogue]),
        )
        return PlanningInputs(item_ids, sales, returns, stock, items, unit_cost, as_of)
