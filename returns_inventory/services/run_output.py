"""A run's results as table rows, formatted a column at a time.

Formatting 100,000 forecasts row by row (numpy scalars, one ``round`` and one ``json.dumps``
per number) took longer than forecasting them, so every column is converted with one numpy or
``json`` call over the whole slice. JSON columns come out as JSON text, ready for COPY.
The functions are pure (arrays in, lists out) so a Dask task can format its own rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal

import numpy as np

from ..domain.replenishment import PROPOSED

# Terms of the order-up-to arithmetic kept with each suggestion, in reading order.
TERMS = (
    "protection_weeks", "gross_demand", "expected_returns", "service_level",
    "safety_stock_method", "sigma_window", "safety_stock", "order_up_to", "on_hand", "reserved",
    "on_order", "inventory_position", "raw_order", "order_qty", "moq_applied",
    "blind_safety_stock", "blind_order_up_to", "blind_order_qty", "service_target", "policy",
    "order_lot", "units_still_out", "returns_from_past_sales", "returns_by_week",
)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class RowContext:
    """What the writing transaction fixed for every row of the run."""

    run_id: int
    as_of: date
    origin_week: date
    location_id: int
    created_at: datetime


@dataclass
class RowInputs:
    """Per-row facts from the database, aligned with the result's rows."""

    item_ids: np.ndarray
    unit_cost: np.ndarray
    previous_qty: np.ndarray  # what the previous run suggested; -1 for nothing
    decided: np.ndarray  # bool: a planner already decided this item for this as-of date

    def rows(self, start: int, stop: int) -> RowInputs:
        return RowInputs(*(getattr(self, f.name)[start:stop] for f in fields(self)))


def result_rows(result, start: int, stop: int):
    """The rows ``start:stop`` of a ``PlanResult``'s demand, returns and replenishment."""
    def cut(part):
        n = len(part.ids)
        return replace(part, **{
            f.name: getattr(part, f.name)[start:stop] for f in fields(part)
            if isinstance(getattr(part, f.name), np.ndarray)
            and getattr(part, f.name).shape[:1] == (n,)})

    return cut(result.demand), cut(result.returns), cut(result.replenishment)


def forecast_columns(ctx: RowContext, rows: RowInputs, demand, returns) -> dict[str, list]:
    n = len(rows.item_ids)
    return {
        "run_id": [ctx.run_id] * n, "item_id": rows.item_ids.tolist(),
        "origin_week": [ctx.origin_week] * n,
        "method": [m or "none" for m in demand.method.tolist()], "why": demand.why.tolist(),
        "level": demand.level.tolist(), "demand_class": demand.demand_class.tolist(),
        "forecast": json_rows(demand.forecast), "lower": json_rows(demand.lower),
        "upper": json_rows(demand.upper),
        "interval_level": [float(demand.interval_level)] * n,
        "return_rate": returns.rate.astype(float).tolist(),
        "restockable_share": returns.restockable_share.astype(float).tolist(),
        "lag_median_weeks": returns.lag_median.astype(float).tolist(),
        "expected_returns": json_rows(returns.expected_restockable),
        "explanation": demand.explanations(),
    }


def suggestion_columns(ctx: RowContext, rows: RowInputs, plan) -> dict[str, list]:
    """Suggestions for the rows worth one: something to order now or before, and no
    planner's decision on the item for this as-of date yet."""
    qty, blind = plan.order_qty.astype(np.int64), plan.blind_order_qty.astype(np.int64)
    keep = ~rows.decided & ((qty != 0) | (blind != 0) | (rows.previous_qty > 0))
    at = np.flatnonzero(keep)
    n = len(at)
    cost = [Decimal(str(c)).quantize(CENT) for c in rows.unit_cost[at].tolist()]
    previous = rows.previous_qty[at].tolist()
    explanations = plan.explanations()
    return {
        "run_id": [ctx.run_id] * n, "as_of": [ctx.as_of] * n,
        "item_id": rows.item_ids[at].tolist(), "location_id": [ctx.location_id] * n,
        "status": [PROPOSED.value] * n, "suggested_qty": qty[at].tolist(),
        "return_blind_qty": blind[at].tolist(),
        "previous_qty": [p if p >= 0 else None for p in previous],
        "unit_cost": cost,
        "value": [c * q for c, q in zip(cost, qty[at].tolist(), strict=True)],
        "terms": terms_json(plan, at), "explanation": [explanations[i] for i in at.tolist()],
        "created_at": [ctx.created_at] * n,
    }


def json_rows(values: np.ndarray) -> list[str]:
    """Each row of a 2-D array as a JSON list of numbers rounded to 3 decimals (NaN as 0)."""
    rows = np.round(np.nan_to_num(np.asarray(values, dtype=float), nan=0.0), 3).tolist()
    if not rows:
        return []
    # One C-level dumps for the whole array, cut at the row boundaries: "[[a, b], [c, d]]".
    return ["[" + row + "]" for row in json.dumps(rows)[2:-2].split("], [")]


def terms_json(plan, at: np.ndarray) -> list[str]:
    """The TERMS of the rows ``at`` as JSON objects (floats to 4 decimals)."""
    columns = []
    for term in TERMS:
        values = np.asarray(getattr(plan, term))[at]
        if values.ndim == 2:  # a week-by-week list per row
            columns.append(json_rows(values) if len(at) else [])
            continue
        if values.dtype.kind == "f":
            values = np.round(values.astype(float), 4)  # float32 rounds as its float64 value
        if values.dtype.kind in "fiub":
            columns.append(json.dumps(values.tolist())[1:-1].split(", ") if len(at) else [])
        else:
            columns.append([json.dumps(v) for v in values.tolist()])
    template = "{" + ", ".join(f'"{term}": %s' for term in TERMS) + "}"
    return [template % row for row in zip(*columns, strict=True)]
