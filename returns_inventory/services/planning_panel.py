"""The catalogue and its history packed into the forecasting library's arrays.

At a million series everything here is arrays: the catalogue a column at a time (not a
million result rows kept alive), the big reads folded in block by block as they arrive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from forecasting.panel import ItemParams, ReturnsData, SalesPanel, StockPosition
from forecasting.returns import ReturnCounts

from ..domain.weeks import monday_of, week_of

if TYPE_CHECKING:
    from .planning_inputs import ForecastConfig


@dataclass
class PlanningInputs:
    item_ids: np.ndarray  # database id per panel row
    sales: SalesPanel
    returns: ReturnsData | ReturnCounts  # rows, or counted per series where they were read
    stock: StockPosition
    items: ItemParams
    unit_cost: np.ndarray
    as_of: date

    @property
    def origin_monday(self) -> date:
        """Monday of the first forecast week."""
        return monday_of(self.sales.last_week + 1)


@dataclass
class Catalogue:
    """The items to plan, column by column, in planning order."""

    ids: np.ndarray
    names: np.ndarray  # "sku|size"
    category: np.ndarray  # object: one str per category, shared by its items
    unit_cost: np.ndarray
    lead_time_days: np.ndarray
    case_pack: np.ndarray
    min_order_qty: np.ndarray
    supplier: np.ndarray  # object, None when unknown
    launched_week: np.ndarray  # float, NaN when unknown

    @classmethod
    def from_rows(cls, rows: Iterable) -> Catalogue:
        """From ``planning_items`` rows (any iterable: they may stream)."""
        ids, names, category, cost, lead, pack, moq, supplier, launched = (
            [] for _ in range(9))
        shared: dict[str | None, str | None] = {}
        for r in rows:
            ids.append(r.id)
            names.append(f"{r.sku}|{r.size}")
            category.append(shared.setdefault(r.category, r.category))
            cost.append(float(r.unit_cost))
            lead.append(r.lead_time_days)
            pack.append(r.case_pack)
            moq.append(r.min_order_qty)
            supplier.append(shared.setdefault(r.supplier, r.supplier))
            launched.append(np.nan if r.launched_on is None else week_of(r.launched_on))
        return cls(
            ids=np.asarray(ids, dtype=np.int64), names=np.asarray(names, dtype=str),
            category=_objects(category), unit_cost=np.asarray(cost, dtype=np.float64),
            lead_time_days=np.asarray(lead, dtype=np.int64),
            case_pack=np.asarray(pack, dtype=np.int64),
            min_order_qty=np.asarray(moq, dtype=np.int64), supplier=_objects(supplier),
            launched_week=np.asarray(launched, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.ids)


# ReturnsData's columns (series, sale week, receipt week, reason, grade, units) as compact as
# their values allow: tens of millions of rows at a million series, and the library widens
# what it computes with a block at a time (forecasting.returns.count_returns).
RETURN_DTYPES = (np.int32, np.int32, np.int32, np.int8, np.int8, np.float32)


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def per_value(values: np.ndarray, rule) -> np.ndarray:
    """``rule(v)`` for each of ``values``, called once per distinct value."""
    known: dict = {}
    return np.asarray([known[v] if v in known else known.setdefault(v, rule(v))
                       for v in values.tolist()])


class Packer:
    """The panel of the catalogue's items, filled from blocks of the big reads in any order.

    Millions of (item, week) rows: indexed with arrays, never row by row in Python.
    """

    def __init__(self, catalogue: Catalogue, config: ForecastConfig, first_week: int):
        self.catalogue = catalogue
        self.first = first_week
        self.weeks = config.history_weeks
        n = len(catalogue)
        self.item_ids = catalogue.ids
        self.lookup = np.full(int(self.item_ids.max(initial=0)) + 1, -1, dtype=np.int64)
        self.lookup[self.item_ids] = np.arange(n)
        self.y = np.zeros(n * self.weeks, dtype=np.float32)
        self.returned: list[list[np.ndarray]] = [[] for _ in RETURN_DTYPES]
        self.counted: list[tuple[np.ndarray, ReturnCounts]] = []
        self.window = config.return_window_weeks

    def rows_of(self, ids_read: np.ndarray) -> np.ndarray:
        """Panel row of each item id; -1 for items not in the catalogue."""
        known = ids_read < len(self.lookup)
        return np.where(known, self.lookup[np.where(known, ids_read, 0)], -1)

    def add_sales(self, weekly: np.ndarray) -> None:
        """(item_id, week, units) rows; rows of the same item and week add up (exactly:
        whole units, far below float32's 2**24)."""
        row = self.rows_of(weekly[:, 0])
        keep = row >= 0
        np.add.at(self.y, row[keep] * self.weeks + (weekly[keep, 1] - self.first),
                  weekly[keep, 2].astype(np.float32))

    def add_returns(self, returned: np.ndarray) -> None:
        """(item_id, sale week, receipt week, reason, grade, units) rows; rows with the same
        values may come apart (the library adds units up: forecasting.returns.count_returns)."""
        series = self.rows_of(returned[:, 0])
        keep = series >= 0
        for column, values, dtype in zip(self.returned, (series, *returned[:, 1:].T),
                                         RETURN_DTYPES, strict=True):
            column.append(values[keep].astype(dtype))

    def add_counted(self, ids: np.ndarray, counts: ReturnCounts) -> None:
        """The returns of the items ``ids``, counted per item where they were read
        (``count_returns`` over the panel's weeks and the return window); items not in the
        catalogue are dropped, and none of these items may come as rows too."""
        self.counted.append((self.rows_of(ids), counts))

    def _returns(self) -> ReturnsData | ReturnCounts:
        if self.counted:
            if any(self.returned):
                raise ValueError("returns came both as rows and counted")
            counted, self.counted = self.counted, []
            return ReturnCounts.gather(len(self.catalogue), self.window, counted)
        def column(k: int) -> np.ndarray:
            parts, self.returned[k] = self.returned[k], []  # freed as each one is joined
            return np.concatenate(parts) if parts else np.zeros(0, RETURN_DTYPES[k])

        return ReturnsData(*(column(k) for k in range(len(RETURN_DTYPES))))

    def finish(self, planning, config: ForecastConfig, as_of: date) -> PlanningInputs:
        """The panel, with the small reads (stock, transit, orders) and item parameters."""
        c, rows_of, n = self.catalogue, self.rows_of, len(self.catalogue)
        sales = SalesPanel(ids=c.names, y=self.y.reshape(n, self.weeks), start_week=self.first)
        returns = self._returns()

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

        items = ItemParams(
            category=c.category,
            lead_time=per_value(c.lead_time_days, lambda d: max(1, math.ceil(d / 7))).astype(
                np.int64).reshape(n),
            review_period=np.full(n, config.review_period_weeks, dtype=np.int64),
            case_pack=c.case_pack, moq=c.min_order_qty, unit_cost=c.unit_cost,
            service_level=per_value(c.category, config.service_level).reshape(n),
            launched_week=c.launched_week,
            service_target=_objects(per_value(c.category, config.service_target).tolist()),
            holding_cost=per_value(c.category, lambda k: config.cost(k, "holding")).reshape(n),
            shortage_cost=per_value(c.category,
                                    lambda k: config.cost(k, "shortage")).reshape(n),
            order_cost=per_value(c.supplier, config.order_cost).reshape(n),
        )
        return PlanningInputs(self.item_ids, sales, returns, stock, items, c.unit_cost, as_of)
