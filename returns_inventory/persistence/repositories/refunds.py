"""Inspection outcomes per unit and the refunds per return line they lead to."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import bindparam, exists, func, select

from ..batch import WriteBatch
from ..refund_tables import inspection_outcomes, refund_deductions, refunds
from ..returns_tables import return_lines, return_units, returns
from ..tables import items, sales_lines
from .base import Repository, utcnow

_LATER = inspection_outcomes.alias("later")
_SIBLING = return_lines.alias("sibling")  # the other lines of the same return
# The row in force is the unit's last: no later row of the same unit (its unique index answers).
# A last row of kind `withdrawn` (the grade that judged the unit was undone) leaves none.
WITHDRAWN = "withdrawn"
_IN_FORCE = ~exists().where(_LATER.c.unit_id == inspection_outcomes.c.unit_id,
                            _LATER.c.sequence > inspection_outcomes.c.sequence) & (
    inspection_outcomes.c.kind != WITHDRAWN)


# Grading runs these for every unit it judges: built once, their compiled form and cache key
# are reused instead of being rebuilt per call (which cost more CPU than the database spent).
_LINES = (
    select(
        return_lines.c.id.label("line_id"), return_lines.c.line_no,
        return_lines.c.quantity, return_lines.c.received_quantity,
        return_lines.c.reason, return_lines.c.resolution,
        return_lines.c.declared_condition, return_lines.c.condition_met,
        sales_lines.c.line_ref, sales_lines.c.unit_price, sales_lines.c.channel,
        items.c.sku, items.c.size,
        returns.c.id.label("return_id"), returns.c.rma, returns.c.order_ref,
        returns.c.status.label("return_status"), returns.c.shipping_paid_by,
        returns.c.refund_timing, returns.c.refund_method, returns.c.refund_within_days,
        returns.c.address_ref,
        # How many units of the whole return have arrived: its answer waits for all.
        select(func.sum(_SIBLING.c.received_quantity))
        .where(_SIBLING.c.return_id == returns.c.id)
        .scalar_subquery().label("return_received"),
    )
    .join(returns, returns.c.id == return_lines.c.return_id)
    .join(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
    .join(items, items.c.id == return_lines.c.item_id)
)
_LINE_CONTEXT = _LINES.where(return_lines.c.id == bindparam("line_id"))
# The settlement step's read: every line of many returns, the returns locked in id order (the
# one order every settler takes them in).
_LINES_OF_RETURNS_LOCKED = (
    _LINES.where(returns.c.id.in_(bindparam("return_ids", expanding=True)))
    .order_by(returns.c.id, return_lines.c.id)
    .with_for_update(of=returns)
)
_LINE_CONTEXT_LOCKED = _LINE_CONTEXT.with_for_update(of=returns)
_KEEP_OUTCOME = inspection_outcomes.insert().values(
    sequence=select(func.coalesce(func.max(inspection_outcomes.c.sequence), 0) + 1)
    .where(inspection_outcomes.c.unit_id == bindparam("judged_unit"))
    .scalar_subquery(),
)
_ADD_OUTCOME = _KEEP_OUTCOME.returning(inspection_outcomes.c.id)
_OUTCOMES_IN_FORCE = (
    select(inspection_outcomes, return_units.c.unit_code, items.c.sku, items.c.size,
           return_lines.c.line_no, return_lines.c.resolution,
           refunds.c.status.label("refund_status"))
    .where(_IN_FORCE)
    .join(return_units, return_units.c.id == inspection_outcomes.c.unit_id)
    .join(items, items.c.id == return_units.c.item_id)
    .join(return_lines, return_lines.c.id == inspection_outcomes.c.return_line_id)
    .outerjoin(refunds, refunds.c.id == inspection_outcomes.c.refund_id)
    .order_by(inspection_outcomes.c.unit_id)
)
_OUTCOMES_OF_RETURN = _OUTCOMES_IN_FORCE.where(
    inspection_outcomes.c.return_id == bindparam("return_id"))
_OUTCOMES_OF_RETURNS = _OUTCOMES_IN_FORCE.where(
    inspection_outcomes.c.return_id.in_(bindparam("return_ids", expanding=True)))
_SETTLING = (
    select(inspection_outcomes.c.id, inspection_outcomes.c.return_id)
    .where(inspection_outcomes.c.settling)
    .order_by(inspection_outcomes.c.id)
    .limit(bindparam("limit"))
)
_SETTLED = (
    inspection_outcomes.update()
    .where(inspection_outcomes.c.id.in_(bindparam("outcome_ids", expanding=True)))
    .values(settling=False)
)
_SETTLE_ONE = (
    inspection_outcomes.update()
    .where(inspection_outcomes.c.id == bindparam("outcome_id"))
    .values(refund_id=bindparam("settled_by"))
)
_ADD_REFUNDS = refunds.insert().returning(refunds.c.id, sort_by_parameter_order=True)
_SETTLE_OUTCOMES = (
    inspection_outcomes.update()
    .where(inspection_outcomes.c.id.in_(bindparam("outcome_ids", expanding=True)))
    .values(refund_id=bindparam("refund_id"))
)
_ADD_REFUND = refunds.insert().returning(refunds.c.id)
_LIVE = (refunds.c.return_id == bindparam("return_id")) & (refunds.c.status != "cancelled")
_RETURN_SHIPPING_SETTLED = select(
    exists().where(_LIVE, refund_deductions.c.refund_id == refunds.c.id,
                   refund_deductions.c.code == "return_shipping"),
    exists().where(_LIVE, refunds.c.shipping_refund > 0),
)


def _listed():
    return (
        select(refunds, returns.c.rma, returns.c.order_ref, return_lines.c.line_no,
               sales_lines.c.line_ref, items.c.sku, items.c.size)
        .join(returns, returns.c.id == refunds.c.return_id)
        .join(return_lines, return_lines.c.id == refunds.c.return_line_id)
        .join(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
        .join(items, items.c.id == return_lines.c.item_id)
    )


_LIVE_REFUNDS_OF_RETURN = _listed().where(_LIVE).order_by(refunds.c.id)
_LIVE_REFUNDS_OF_RETURNS = (
    _listed()
    .add_columns(exists().where(refund_deductions.c.refund_id == refunds.c.id,
                                refund_deductions.c.code == "return_shipping")
                 .label("took_return_shipping"))
    .where(refunds.c.return_id.in_(bindparam("return_ids", expanding=True)),
           refunds.c.status != "cancelled")
    .order_by(refunds.c.id)
)


class RefundRepository(Repository):
    # --- what a line needs to be judged and refunded -----------------------------------
    def line_context(self, return_line_id: int, *, lock: bool = False) -> dict:
        """What judging and refunding a unit of this line need; `lock` locks its return."""
        query = _LINE_CONTEXT_LOCKED if lock else _LINE_CONTEXT
        # Asked only for a line that exists (a unit's, an exchange's, one just received).
        return dict(self.connection.execute(query, {"line_id": return_line_id}).one()._mapping)

    def lines_of_returns(self, return_ids: list[int]) -> list[dict]:
        """What settling needs of every line of these returns, the returns locked."""
        rows = self.connection.execute(_LINES_OF_RETURNS_LOCKED, {"return_ids": return_ids})
        return [dict(r._mapping) for r in rows]

    # --- inspection outcomes --------------------------------------------------------
    def add_outcome(self, *, batch: WriteBatch | None = None, **values: Any) -> int | None:
        """The unit's next outcome row: its id, or None when kept in `batch` (a grade's,
        written with its other rows when the batch ends)."""
        # The caller holds the unit's lock, so the next sequence number is ours.
        row = {"created_at": utcnow(), "reason": None, "settling": False, **values,
               "judged_unit": values["unit_id"]}
        if batch is not None:
            batch.keep(_KEEP_OUTCOME, row)
            return None
        return self.connection.execute(_ADD_OUTCOME, row).scalar_one()

    def outcomes_in_force(self, *, return_id: int | None = None, line_id: int | None = None,
                          unit_id: int | None = None) -> list[dict]:
        """The latest outcome of each unit of a return, a line or one unit, oldest unit first."""
        if return_id is not None and line_id is None and unit_id is None:
            # What every judged unit asks: a statement built once.
            rows = self.connection.execute(_OUTCOMES_OF_RETURN, {"return_id": return_id})
            return [dict(r._mapping) for r in rows]
        query = _OUTCOMES_IN_FORCE
        if return_id is not None:
            query = query.where(inspection_outcomes.c.return_id == return_id)
        if line_id is not None:
            query = query.where(inspection_outcomes.c.return_line_id == line_id)
        if unit_id is not None:
            query = query.where(inspection_outcomes.c.unit_id == unit_id)
        return [dict(r._mapping) for r in self.connection.execute(query)]

    def outcomes_of_returns(self, return_ids: list[int]) -> list[dict]:
        """The latest outcome of each unit of these returns, oldest unit first."""
        rows = self.connection.execute(_OUTCOMES_OF_RETURNS, {"return_ids": return_ids})
        return [dict(r._mapping) for r in rows]

    def settling(self, limit: int) -> list[tuple[int, int]]:
        """The outcomes grades left to settle, oldest first: (outcome id, return id)."""
        return [(r.id, r.return_id)
                for r in self.connection.execute(_SETTLING, {"limit": limit})]

    def mark_settled(self, outcome_ids: list[int]) -> None:
        if outcome_ids:
            self.connection.execute(_SETTLED, {"outcome_ids": outcome_ids})

    def add_refunds(self, rows: list[dict], deductions: list[list[dict]]) -> list[int]:
        """Many refunds in one statement, each with its deductions; their ids, in order."""
        if not rows:
            return []
        now = utcnow()
        ids = list(self.connection.execute(
            _ADD_REFUNDS, [{"created_at": now, **row} for row in rows]).scalars())
        kept = [{"refund_id": refund_id, **d}
                for refund_id, its in zip(ids, deductions, strict=True) for d in its]
        if kept:
            self.connection.execute(refund_deductions.insert(), kept)
        return ids

    def settle_many(self, settled: list[tuple[int, int]]) -> None:
        """(outcome id, refund id) pairs: each outcome is now paid by that refund."""
        if settled:
            self.connection.execute(_SETTLE_ONE, [{"outcome_id": o, "settled_by": r}
                                                  for o, r in settled])

    def live_refunds_of_returns(self, return_ids: list[int]) -> list[dict]:
        """Every live refund of these returns, oldest first, with whether it took the
        return shipping."""
        rows = self.connection.execute(_LIVE_REFUNDS_OF_RETURNS, {"return_ids": return_ids})
        return [dict(r._mapping) for r in rows]

    def settle_outcomes(self, outcome_ids: list[int], refund_id: int) -> None:
        self.connection.execute(_SETTLE_OUTCOMES, {"outcome_ids": outcome_ids,
                                                   "refund_id": refund_id})

    # --- refunds ------------------------------------------------------------------------
    def add_refund(self, deductions: list[dict], **values: Any) -> int:
        refund_id = self.connection.execute(_ADD_REFUND, {"created_at": utcnow(), **values}
                                            ).scalar_one()
        if deductions:
            self.connection.execute(refund_deductions.insert(),
                                    [{"refund_id": refund_id, **d} for d in deductions])
        return refund_id

    def return_shipping_settled(self, return_id: int) -> tuple[bool, bool]:
        """Whether a live refund of the return already took the return shipping, and whether
        one already gave the outbound shipping back: each happens once per return."""
        row = self.connection.execute(_RETURN_SHIPPING_SETTLED, {"return_id": return_id}).one()
        return bool(row[0]), bool(row[1])

    def refund(self, refund_id: int, *, lock: bool = False) -> dict | None:
        query = _listed().where(refunds.c.id == refund_id)
        if lock:
            query = query.with_for_update(of=refunds)
        row = self.connection.execute(query).first()
        return self._with_deductions([dict(row._mapping)])[0] if row else None

    def refunds_by_status(self, status: str, *, today: date, limit: int, after: int | None
                          ) -> list[dict]:
        """`due` lists every unpaid refund, `overdue` those past their date, `paid` the paid."""
        query = _listed().order_by(refunds.c.id).limit(limit)
        if status == "overdue":
            query = query.where(refunds.c.status == "due", refunds.c.due_on < today)
        else:
            query = query.where(refunds.c.status == status)
        if after is not None:
            query = query.where(refunds.c.id > after)
        return self._with_deductions([dict(r._mapping) for r in self.connection.execute(query)])

    def live_refunds_of_line(self, line_id: int) -> list[dict]:
        rows = self.connection.execute(
            _listed().where(refunds.c.return_line_id == line_id,
                                 refunds.c.status != "cancelled").order_by(refunds.c.id))
        return self._with_deductions([dict(r._mapping) for r in rows])

    def live_refunds_of_return(self, return_id: int) -> list[dict]:
        rows = self.connection.execute(_LIVE_REFUNDS_OF_RETURN, {"return_id": return_id})
        return [dict(r._mapping) for r in rows]

    def overdue_count(self, today: date) -> int:
        return self.connection.scalar(
            select(func.count()).select_from(refunds)
            .where(refunds.c.status == "due", refunds.c.due_on < today))

    def set_refund_status(self, refund_id: int, status: str, **values: Any) -> None:
        self.connection.execute(
            refunds.update().where(refunds.c.id == refund_id).values(status=status, **values))

    def _with_deductions(self, rows: list[dict]) -> list[dict]:
        if not rows:
            return rows
        found = self.connection.execute(
            select(refund_deductions)
            .where(refund_deductions.c.refund_id.in_([r["id"] for r in rows]))
            .order_by(refund_deductions.c.id))
        by_refund: dict[int, list[dict]] = {}
        for d in found:
            by_refund.setdefault(d.refund_id, []).append(
                {"code": d.code, "label": d.label, "amount": d.amount})
        for row in rows:
            row["deductions"] = by_refund.get(row["id"], [])
        return rows
