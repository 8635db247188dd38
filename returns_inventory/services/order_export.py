"""Approved orders for the ERP: one order per supplier and location, a page of lines at a time
(JSON, by cursor) or every line at once (CSV)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..persistence.repositories import keyset
from ..persistence.uow import UowFactory
from .policies import Policies
from .quality_alerts import QualityAlerts
from .suggestion_alerts import listed_alerts
from .suggestions import run_scope

# Lines per page of the JSON export when the ERP names no `limit`: a night's plan of a few
# thousand lines is a few pages, and a page costs the same however large the plan.
PAGE_LINES = 1_000
MAX_PAGE_LINES = 5_000
CSV_COLUMNS = ("supplier", "location", "sku", "size", "quantity", "case_pack", "cases",
               "unit_cost", "value", "suggestion_id", "quality_alert")
SORT = "export"  # the cursor's word for the export's order (supplier, location, SKU, size)
# The cursor's values: the line's supplier ('' for none), location, SKU and size, and its id.
CURSOR_KINDS = (str, str, str, str, int)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ApprovedLines:
    """One page of a run's approved lines, as the database gave them (plain rows, in the
    export's order), with the quality alerts to mark them with."""

    run_id: int
    as_of: date
    rows: list
    alerts: QualityAlerts | None
    next_cursor: str | None
    # {(supplier key, location): (units, cases, value)} of the page's orders, each whole.
    order_sums: dict = field(default_factory=dict)


def approved_lines(uow_factory: UowFactory, run_id: int | None = None,
                   policies: Policies | None = None, *, limit: int | None = None,
                   after: str | None = None, with_sums: bool = False) -> ApprovedLines:
    """`limit` approved lines of a run after the cursor `after` (every line when `limit` is
    None), stamped exported: from now on the ERP may act on them. `with_sums`: and the
    whole units, cases and value of each order the page shows lines of."""
    start = _cursor_values(after) if after else None
    with uow_factory() as uow:
        scope = run_scope(uow, run_id)
        if scope is None:
            raise NotFound("no forecast run has succeeded yet")
        rows = uow.suggestions.approved_lines(scope, limit=None if limit is None else limit + 1,
                                              after=start)
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if more else rows
        sums = (uow.suggestions.order_sums(scope, _order_of(rows[0]), _order_of(rows[-1]))
                if rows and with_sums else {})
        alerts = (listed_alerts(uow, policies, policies.returns.today())
                  if policies is not None and rows else None)
        # From now on the ERP may act on these lines: they can no longer be reopened.
        uow.suggestions.mark_exported([r.suggestion_id for r in rows if r.exported_at is None])
        uow.commit()
    cursor = keyset.encode(SORT, _key_values(rows[-1])) if more else None
    return ApprovedLines(scope.run_id, scope.as_of, rows, alerts, cursor, sums)


def export_approved_orders(uow_factory: UowFactory, run_id: int | None = None,
                           policies: Policies | None = None, *, limit: int | None = None,
                           after: str | None = None) -> dict:
    """Approved order lines of a run for the ERP, one order per supplier and location:
    `limit` lines after the cursor `after` (every line when `limit` is None). An order whose
    lines go on to the next page carries the whole order's units, cases and value on each."""
    page = approved_lines(uow_factory, run_id, policies, limit=limit, after=after,
                          with_sums=True)
    return {"run_id": page.run_id, "as_of": page.as_of,
            "orders": _orders(page.rows, page.order_sums, page.alerts),
            "next_cursor": page.next_cursor}


def export_rows(export: dict) -> list[dict]:
    """The export flattened to one row per line, supplier and location repeated (for CSV)."""
    return [{"supplier": order["supplier"], "location": order["location"], **line}
            for order in export["orders"] for line in order["lines"]]


def csv_lines(page: ApprovedLines) -> Iterator[tuple]:
    """The page's lines as CSV_COLUMNS values, straight from the rows: the CSV of a plan of
    thousands of lines skips the orders' dicts (the same figures as _orders gives)."""
    alerts = page.alerts
    # Positional, in approved_lines' column order: a named lookup per field was most of
    # the time of a 4,000-line plan.
    for (suggestion_id, supplier, _, location, sku, size, category, quantity, case_pack,
         unit_cost, *_) in page.rows:
        pack = case_pack if case_pack and case_pack > 1 else 1
        flags = alerts.words(sku, supplier, category) if alerts is not None else ""
        yield (supplier, location, sku, size, quantity, pack, -(-quantity // pack), unit_cost,
               (unit_cost * quantity).quantize(CENT), suggestion_id, flags)


def _orders(rows: list, sums: dict, alerts) -> list[dict]:
    orders: dict[tuple, dict] = {}
    # Positional, in approved_lines' column order (see csv_lines).
    for (suggestion_id, supplier, supplier_key, location, sku, size, category, quantity,
         case_pack, unit_cost, _, location_key, *_) in rows:
        order = orders.get((supplier, location))
        if order is None:
            # The whole order's sums, also when its lines go on over the next page.
            order_units, order_cases, order_value = sums[(supplier_key, location_key)]
            order = orders[(supplier, location)] = {
                "supplier": supplier, "location": location, "lines": [],
                "units": int(order_units), "cases": int(order_cases),
                "value": order_value.quantize(CENT)}
        # Exactly what was approved (and announced); it was whole cases at approval time.
        pack = case_pack if case_pack and case_pack > 1 else 1
        line = {"suggestion_id": suggestion_id, "sku": sku, "size": size,
                "quantity": quantity, "case_pack": pack, "cases": -(-quantity // pack),
                "unit_cost": unit_cost, "value": (unit_cost * quantity).quantize(CENT)}
        if alerts is not None:
            line["quality_alert"] = alerts.of(
                {"sku": sku, "supplier": supplier, "category": category})
        order["lines"].append(line)
    return list(orders.values())


def _key_values(row) -> list:
    return [row.supplier_key, row.location_key, row.sku_key, row.size_key, row.suggestion_id]


def _order_of(row) -> tuple[str, str]:
    return row.supplier_key, row.location_key


def _cursor_values(cursor: str) -> list:
    try:
        return keyset.decode(cursor, SORT, CURSOR_KINDS)
    except ValueError as exc:
        raise ValidationFailed(f"`after` is {exc}: pass an export page's next_cursor",
                               errors=[FieldError("after", str(exc))]) from exc
