"""Approved orders for the ERP: one order per supplier and location, a page of lines at a time
(JSON, by cursor) or every line at once (CSV)."""

from __future__ import annotations

from decimal import Decimal

from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..persistence.repositories import keyset
from ..persistence.uow import UowFactory
from .policies import Policies
from .suggestion_alerts import listed_alerts
from .suggestions import run_scope

# Lines per page of the JSON export when the ERP names no `limit`: a night's plan of a few
# thousand lines is a few pages, and a page costs the same however large the plan.
PAGE_LINES = 1_000
MAX_PAGE_LINES = 5_000
SORT = "export"  # the cursor's word for the export's order (supplier, location, SKU, size)
CENT = Decimal("0.01")


def export_approved_orders(uow_factory: UowFactory, run_id: int | None = None,
                           policies: Policies | None = None, *, limit: int | None = None,
                           after: str | None = None) -> dict:
    """Approved order lines of a run for the ERP, one order per supplier and location:
    `limit` lines after the cursor `after` (every line when `limit` is None). An order whose
    lines go on to the next page carries the whole order's units, cases and value on each."""
    start = _cursor_values(after) if after else None
    with uow_factory() as uow:
        scope = run_scope(uow, run_id)
        if scope is None:
            raise NotFound("no forecast run has succeeded yet")
        rows = uow.suggestions.approved_lines(scope, limit=None if limit is None else limit + 1,
                                              after=start)
        more = limit is not None and len(rows) > limit
        rows = rows[:limit] if more else rows
        alerts = (listed_alerts(uow, policies, policies.returns.today())
                  if policies is not None and rows else None)
        # From now on the ERP may act on these lines: they can no longer be reopened.
        uow.suggestions.mark_exported([r.suggestion_id for r in rows if r.exported_at is None])
        uow.commit()
    orders = _orders(rows, alerts)
    cursor = keyset.encode(SORT, _key_values(rows[-1])) if more else None
    return {"run_id": scope.run_id, "as_of": scope.as_of, "orders": orders,
            "next_cursor": cursor}


def export_rows(export: dict) -> list[dict]:
    """The export flattened to one row per line, supplier and location repeated (for CSV)."""
    return [{"supplier": order["supplier"], "location": order["location"], **line}
            for order in export["orders"] for line in order["lines"]]


def _orders(rows: list, alerts) -> list[dict]:
    orders: dict[tuple, dict] = {}
    for r in rows:
        order = orders.get((r.supplier, r.location))
        if order is None:
            # The whole order's sums, also when its lines go on over the next page.
            order = orders[(r.supplier, r.location)] = {
                "supplier": r.supplier, "location": r.location, "lines": [],
                "units": int(r.order_units), "cases": int(r.order_cases),
                "value": r.order_value.quantize(CENT)}
        # Exactly what was approved (and announced); it was whole cases at approval time.
        pack = max(1, r.case_pack or 1)
        line = {"suggestion_id": r.suggestion_id, "sku": r.sku, "size": r.size,
                "quantity": r.quantity, "case_pack": pack, "cases": -(-r.quantity // pack),
                "unit_cost": r.unit_cost, "value": (r.unit_cost * r.quantity).quantize(CENT)}
        if alerts is not None:
            line["quality_alert"] = alerts.of(
                {"sku": r.sku, "supplier": r.supplier, "category": r.category})
        order["lines"].append(line)
    return list(orders.values())


def _key_values(row) -> list:
    return [row.supplier or "", row.location, row.sku, row.size, row.suggestion_id]


def _cursor_values(cursor: str) -> list:
    try:
        return keyset.decode(cursor, SORT, 5)
    except ValueError as exc:
        raise ValidationFailed(f"`after` is {exc}: pass an export page's next_cursor",
                               errors=[FieldError("after", str(exc))]) from exc
