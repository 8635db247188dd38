"""Inputs of the forecasting library: long panels packed into arrays.

Every series is one SKU x size, identified by ``unique_id = "sku|size"``. Weekly sales travel as one
dense ``(n_series, n_weeks)`` array (the statsforecast idea: one packed panel, not one object per
series); returns, open orders and item parameters are arrays aligned with the panel's rows or long
arrays that point into them by row number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

REASONS = (
    "too_small",
    "too_large",
    "quality_defect",
    "damaged_in_transit",
    "not_as_described",
    "wrong_item_sent",
    "changed_mind",
    "late_delivery",
    "other",
)
"""Return reason codes; a reason is stored as its index in this tuple."""

GRADES = ("A", "B", "C", "D", "")
"""Grading outcomes; ``""`` (index 4) means not graded yet. A and B are restockable."""

NO_GRADE = 4


def encode(values, vocabulary) -> np.ndarray:
    """Map strings to their index in ``vocabulary`` (``None`` counts as ``""``).

    Raises ``ValueError`` naming the first unknown value, so a bad export fails loudly.
    """
    lookup = {v: i for i, v in enumerate(vocabulary)}
    out = np.empty(len(values), dtype=np.int8)
    for i, v in enumerate(values):
        code = lookup.get("" if v is None else v)
        if code is None:
            raise ValueError(f"unknown value {v!r}; expected one of {vocabulary}")
        out[i] = code
    return out


def split_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``"sku|size"`` ids into SKU and size arrays (a missing ``|`` means size ``ONE``)."""
    ids = np.asarray(ids, dtype=str)
    sku, sep, size = np.strings.partition(ids, "|")
    size = np.where(sep == "", "ONE", size)
    return sku, size


def _row_lookup(ids: np.ndarray, wanted) -> np.ndarray:
    """Row numbers of ``wanted`` ids in ``ids`` (-1 where absent)."""
    ids = np.asarray(ids, dtype=str)
    wanted = np.asarray(wanted, dtype=str)
    order = np.argsort(ids, kind="stable")
    pos = np.searchsorted(ids, wanted, sorter=order).clip(0, max(len(ids) - 1, 0))
    rows = order[pos] if len(ids) else np.zeros(len(wanted), dtype=np.int64)
    found = ids[rows] == wanted if len(ids) else np.zeros(len(wanted), dtype=bool)
    return np.where(found, rows, -1)


@dataclass(frozen=True)
class SalesPanel:
    """Weekly units sold per series, packed as a dense array.

    Attributes:
        ids: ``(n,)`` series ids ``"sku|size"``.
        y: ``(n, T)`` units sold in each week; column 0 is week ``start_week``.
        start_week: week index of column 0 (any integer week numbering shared by all inputs).
    """

    ids: np.ndarray
    y: np.ndarray
    start_week: int = 0

    def __post_init__(self):
        if self.y.ndim != 2 or self.y.shape[0] != len(self.ids):
            raise ValueError("y must be (len(ids), n_weeks)")

    @property
    def n_weeks(self) -> int:
        return int(self.y.shape[1])

    @property
    def last_week(self) -> int:
        """Week index of the last observed week (the forecast origin)."""
        return self.start_week + self.n_weeks - 1

    @classmethod
    def from_long(cls, unique_id, ds, y, *, start_week=None, end_week=None, ids=None):
        """Pack a long panel (``unique_id, ds, y`` rows) into a dense weekly array.

        Args:
            unique_id: series id per row, ``"sku|size"``.
            ds: integer week index per row.
            y: units per row; rows with the same id and week are summed.
            start_week, end_week: inclusive week range (default: the range of ``ds``).
            ids: the full list of series (default: the ids present); lets series without sales
                in the window still be planned.
        """
        ds = np.asarray(ds, dtype=np.int64)
        y = np.asarray(y, dtype=np.float64)
        start = int(ds.min()) if start_week is None else int(start_week)
        end = int(ds.max()) if end_week is None else int(end_week)
        if ids is None:
            ids, rows = np.unique(np.asarray(unique_id, dtype=str), return_inverse=True)
        else:
            ids = np.asarray(ids, dtype=str)
            rows = _row_lookup(ids, unique_id)
        keep = (rows >= 0) & (ds >= start) & (ds <= end)
        n_weeks = end - start + 1
        flat = rows[keep] * n_weeks + (ds[keep] - start)
        dense = np.bincount(flat, weights=y[keep], minlength=len(ids) * n_weeks)
        return cls(ids=ids, y=dense.reshape(len(ids), n_weeks).astype(np.float32), start_week=start)

    def rows_of(self, unique_id) -> np.ndarray:
        """Row numbers of the given ids (-1 for ids not in the panel)."""
        return _row_lookup(self.ids, unique_id)

    def truncate(self, last_week: int) -> SalesPanel:
        """The panel as it was known at the end of ``last_week`` (for backtests)."""
        return SalesPanel(self.ids, self.y[:, : last_week - self.start_week + 1], self.start_week)


@dataclass(frozen=True)
class ReturnsData:
    """Customer returns as long arrays: one row per series, sale week, receipt week, reason, grade.

    Attributes:
        series: ``(m,)`` row number in the sales panel.
        sale_week: week the unit was sold.
        receipt_week: week the unit arrived back at the warehouse.
        reason: index into :data:`REASONS`.
        grade: index into :data:`GRADES` (4 = not graded yet).
        units: units on the row (default 1 each).
    """

    series: np.ndarray
    sale_week: np.ndarray
    receipt_week: np.ndarray
    reason: np.ndarray
    grade: np.ndarray
    # None means one unit per row: __post_init__ fills it in, so readers never see None.
    units: np.ndarray = field(default=None)  # type: ignore[arg-type]

    def __post_init__(self):
        if self.units is None:
            object.__setattr__(self, "units", np.ones(len(self.series), dtype=np.float32))

    @classmethod
    def from_records(cls, panel: SalesPanel, unique_id, sale_week, receipt_week, reason, grade,
                     units=None) -> ReturnsData:
        """Build from string ids, reason names and grade letters; unknown ids are dropped."""
        rows = panel.rows_of(unique_id)
        keep = rows >= 0
        units = np.ones(len(rows)) if units is None else np.asarray(units, dtype=np.float64)
        return cls(
            series=rows[keep],
            sale_week=np.asarray(sale_week, dtype=np.int64)[keep],
            receipt_week=np.asarray(receipt_week, dtype=np.int64)[keep],
            reason=encode(list(np.asarray(reason, dtype=object)[keep]), REASONS),
            grade=encode(list(np.asarray(grade, dtype=object)[keep]), GRADES),
            units=units[keep].astype(np.float32),
        )

    @classmethod
    def empty(cls) -> ReturnsData:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z.astype(np.int8), z.astype(np.int8), z.astype(np.float32))

    def received_by(self, week: int) -> ReturnsData:
        """Only the returns received up to and including ``week`` (for backtests)."""
        k = self.receipt_week <= week
        return ReturnsData(self.series[k], self.sale_week[k], self.receipt_week[k],
                           self.reason[k], self.grade[k], self.units[k])


@dataclass(frozen=True)
class StockPosition:
    """Stock per series, aligned with the panel rows.

    Attributes:
        on_hand: units on the shelf.
        reserved: units promised to open orders or exchanges (not available).
        returns_in_transit: units customers have sent back that have not arrived yet.
        on_order_series, on_order_week, on_order_units: open purchase orders as long arrays
            (row number, expected arrival week, units).
        returns_awaiting_grading: units that have arrived but are not graded yet (no longer
            expected from past sales, not yet on the shelf); None means none.
    """

    on_hand: np.ndarray
    reserved: np.ndarray
    returns_in_transit: np.ndarray
    on_order_series: np.ndarray
    on_order_week: np.ndarray
    on_order_units: np.ndarray
    returns_awaiting_grading: np.ndarray | None = None

    @classmethod
    def empty(cls, n: int) -> StockPosition:
        z = np.zeros(n)
        e = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), z.copy(), e, e, e.astype(np.float64))

    def on_order_total(self, n: int, *, until_week: int | None = None) -> np.ndarray:
        """Open order units per series, optionally only those due by ``until_week``."""
        k = np.ones(len(self.on_order_series), bool)
        if until_week is not None:
            k = self.on_order_week <= until_week
        return np.bincount(self.on_order_series[k], weights=self.on_order_units[k], minlength=n)


@dataclass(frozen=True)
class ItemParams:
    """Planning parameters per series, aligned with the panel rows.

    Attributes:
        category: category name per series (its size curve, return priors and lag law are
            pooled over the category).
        lead_time: weeks from order to receipt (L).
        review_period: weeks between orders (R).
        case_pack: order multiple (1 = any quantity).
        moq: minimum order quantity in units (0 = none).
        unit_cost: cost per unit, used to value orders and stock.
        service_level: the target's level, e.g. 0.95: probability of no stockout per cycle
            (``cycle``) or share of demand served from stock (``fill``); unused for ``cost``.
        launched_week: week number the item was (or will be) launched, NaN where unknown
            (then its first sale week counts); None = unknown for all.
        launch_quantity: planned units over the first weeks of a new item's life (its
            lifecycle profile), NaN or 0 where none; used before the first sale.
        service_target: ``cycle``, ``fill`` or ``cost`` per series (None = all ``cycle``).
        holding_cost, shortage_cost: per unit and week (None = 0); a ``cost`` target orders at
            the critical ratio ``shortage / (shortage + holding)``.
        order_cost: fixed cost per purchase order (None = 0). Where it and the holding cost are
            positive the series is ordered by (r,Q) with an EOQ-based lot instead of up to S.
    """

    category: np.ndarray
    lead_time: np.ndarray
    review_period: np.ndarray
    case_pack: np.ndarray
    moq: np.ndarray
    unit_cost: np.ndarray
    service_level: np.ndarray
    launched_week: np.ndarray | None = None
    launch_quantity: np.ndarray | None = None
    service_target: np.ndarray | None = None
    holding_cost: np.ndarray | None = None
    shortage_cost: np.ndarray | None = None
    order_cost: np.ndarray | None = None

    def __post_init__(self):
        n = len(self.category)
        if self.service_target is None:
            object.__setattr__(self, "service_target", np.full(n, "cycle", dtype=object))
        else:
            bad = set(np.asarray(self.service_target, dtype=str)) - {"cycle", "fill", "cost"}
            if bad:
                raise ValueError(f"unknown service target {sorted(bad)[0]!r}; "
                                 "expected cycle, fill or cost")
        for name in ("holding_cost", "shortage_cost", "order_cost"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(n))

    @classmethod
    def uniform(cls, n: int, *, category="all", lead_time=2, review_period=1, case_pack=1, moq=0,
                unit_cost=1.0, service_level=0.95, service_target="cycle", holding_cost=0.0,
                shortage_cost=0.0, order_cost=0.0) -> ItemParams:
        """The same parameters for every series (handy for tests and simple shops)."""
        def full(v, dt):
            return np.full(n, v, dtype=dt)
        return cls(full(category, object), full(lead_time, np.int64), full(review_period, np.int64),
                   full(case_pack, np.int64), full(moq, np.int64), full(unit_cost, np.float64),
                   full(service_level, np.float64), service_target=full(service_target, object),
                   holding_cost=full(holding_cost, np.float64),
                   shortage_cost=full(shortage_cost, np.float64),
                   order_cost=full(order_cost, np.float64))


def compact_units(y: np.ndarray) -> np.ndarray:
    """``y`` as the narrowest integer type holding every value exactly, when it is whole
    non-negative counts (else ``y`` itself): a quarter or an eighth of float64's bytes."""
    if y.dtype.kind != "f" or y.size == 0:
        return y
    top = float(np.max(y))
    if not np.isfinite(top) or float(np.min(y)) < 0:
        return y
    for kind in (np.uint8, np.uint16, np.uint32):
        if top <= np.iinfo(kind).max:
            small = y.astype(kind)
            return small if np.array_equal(small, y) else y
    return y
