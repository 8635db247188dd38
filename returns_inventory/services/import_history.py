"""What a returns import needs beyond the generic path: the ERP's reason codes mapped per
row, and the whole-file checks against the sales it names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.errors import FieldError
from ..domain.return_history import HistoryCodes
from .import_schemas import RETURNS

RETURNS_CHECKS: dict[str, Callable[[Any], FieldError]] = {
    "unknown_sales": lambda r: FieldError(
        "line_ref", f"no sales line {r.line_ref} of order {r.order_ref}", row=r.row_no),
    "unknown_items": lambda r: FieldError("sku", f"no item {r.sku} in size {r.size}",
                                          row=r.row_no),
    "other_item_than_sold": lambda r: FieldError(
        "sku", f"the order line sold {r.sku} size {r.size}", row=r.row_no),
    "returned_before_sold": lambda r: FieldError(
        "returned_on", f"is before the sale on {r.sold_on.isoformat()}", row=r.row_no),
    "more_than_sold": lambda r: FieldError(
        "quantity", f"the line sold {r.sold}, {r.before} of them returned before; the file's "
        "returns of it exceed that", row=r.row_no),
}


class BadColumn(ValueError):
    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column, self.reason = column, reason


def resolver(kind: str, policies) -> Callable[[tuple], tuple] | None:
    """Per-row work that needs the policies: a returns row's ERP reason becomes ours (kept
    beside it) and a grade without a disposition takes the grade's."""
    if kind != "returns":
        return None
    if policies is None:
        raise TypeError("a returns import needs the policies to map its reason codes")
    codes = HistoryCodes.from_policies(policies.returns, policies.grading)
    reason_at, grade_at = RETURNS.names.index("reason"), RETURNS.names.index("grade")

    def resolve(values: tuple) -> tuple:
        try:
            ours = codes.reason(values[reason_at])
        except ValueError as exc:
            raise BadColumn("reason", str(exc)) from None
        grade, disposition = codes.outcome(values[grade_at], values[grade_at + 1])
        return (*values[:grade_at], grade, disposition, ours)

    return resolve
