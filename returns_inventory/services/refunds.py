"""Refunds per return line: owed on receipt or after inspection, listed, marked paid."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ..domain.errors import Conflict, FieldError, NotFound
from ..domain.inspection import (
    Deduction,
    InspectionPolicy,
    Outcome,
    RefundFigures,
    RefundTiming,
    refund_figures,
)

REFUNDED = (Outcome.ACCEPT.value, Outcome.DEDUCT.value)


def refund_on_receipt(uow, policy: InspectionPolicy, *, ctx: dict, quantity: int, actor: str,
                      today: date) -> Decimal:
    """The units just received are owed at the sale's price, in full (the on_receipt choice:
    fast for the customer, whatever inspection later finds). Returns the amount."""
    figures = refund_figures(policy, unit_price=ctx["unit_price"],
                             unit_deductions=[[] for _ in range(quantity)])
    _add_refund(uow, ctx, figures, timing=RefundTiming.ON_RECEIPT, actor=actor, today=today)
    return figures.total


def settle_line(uow, policy: InspectionPolicy, ctx: dict, *, actor: str, today: date,
                judged: list[dict] | None = None) -> dict | None:
    """Once every received unit of a refund line is judged, what its accepted units are owed
    (line_refund), issued now in the caller's transaction."""
    if ctx["resolution"] != "refund" or ctx["refund_timing"] != RefundTiming.ON_INSPECTION:
        return None
    if judged is None:
        judged = uow.refunds.outcomes_in_force(line_id=ctx["line_id"])
    charged, given_back = uow.refunds.return_shipping_settled(ctx["return_id"])
    owed = line_refund(policy, ctx, judged, charged=charged, given_back=given_back)
    if owed is None:
        return None
    figures, open_ = owed
    refund = _add_refund(uow, ctx, figures, timing=RefundTiming.ON_INSPECTION, actor=actor,
                         today=today)
    uow.refunds.settle_outcomes(open_, refund["refund_id"])
    return refund


def line_refund(policy: InspectionPolicy, ctx: dict, judged: list[dict], *, charged: bool,
                given_back: bool) -> tuple[RefundFigures, list[int]] | None:
    """What a refund line is owed once every received unit of it is judged, and the outcomes
    that refund settles; None while a unit waits, or when nothing is owed.

    Units already on a live refund are not counted again; a line whose units were all refused
    owes nothing and gets no refund. The return shipping the customer pays (`charged`: a live
    refund of the return already took it), and the outbound shipping a quality return gives
    back (`given_back`), are each settled once per return."""
    if ctx["resolution"] != "refund" or ctx["refund_timing"] != RefundTiming.ON_INSPECTION:
        return None
    if len(judged) < ctx["received_quantity"]:
        return None  # a unit of the line still waits for grading
    open_ = [o for o in judged if o["refund_id"] is None or o["refund_status"] == "cancelled"]
    owed = [o for o in open_ if o["outcome"] in REFUNDED]
    if not owed:
        return None
    figures = refund_figures(
        policy,
        unit_price=ctx["unit_price"],
        unit_deductions=[[Deduction(d["code"], d["label"], Decimal(d["amount"]))
                          for d in o["deductions"]] for o in owed],
        shipping_refund=(policy.outbound_shipping_quality
                         if ctx["quality"] and not given_back else Decimal(0)),
        return_shipping=(policy.return_shipping
                         if ctx["shipping_paid_by"] == "customer" and not charged
                         else Decimal(0)),
    )
    return figures, [o["id"] for o in open_]


def cancel_refund(uow, refund: dict, *, reason: str, actor: str) -> None:
    """A due refund is taken back (an override changed what its units are owed)."""
    if refund["status"] == "paid":
        raise Conflict(f"refund {refund['id']} is already paid; the ERP settles any difference "
                       "with the customer", refund_id=refund["id"])
    uow.refunds.set_refund_status(refund["id"], "cancelled", cancel_reason=reason[:255])
    uow.events.add("refund.cancelled", {"refund_id": refund["id"], "rma": refund["rma"],
                                        "line_ref": refund["line_ref"],
                                        "total": str(refund["total"]), "reason": reason},
                   actor=actor)


def mark_paid(uow_factory: Callable, *, refund_id: int, actor: str,
              payment_ref: str | None = None) -> dict:
    """The ERP paid the refund. Marking a paid refund paid again answers it unchanged."""
    with uow_factory() as uow:
        refund = uow.refunds.refund(refund_id, lock=True)
        if refund is None:
            raise NotFound(f"no refund {refund_id}",
                           errors=[FieldError("refund_id", "unknown")])
        if refund["status"] == "paid":
            return refund_view(refund)
        if refund["status"] != "due":
            raise Conflict(f"refund {refund_id} is {refund['status']}; only a due refund can "
                           "be paid", refund_status=refund["status"])
        uow.refunds.set_refund_status(refund_id, "paid", paid_at=datetime.now(UTC),
                                      paid_by=actor, payment_ref=payment_ref)
        refund = uow.refunds.refund(refund_id)
        uow.events.add("refund.paid", {"refund_id": refund_id, "rma": refund["rma"],
                                       "total": str(refund["total"]),
                                       "payment_ref": payment_ref}, actor=actor)
        uow.commit()
    return refund_view(refund)


def list_refunds(uow_factory: Callable, *, status: str, today: date, limit: int,
                 after: int | None) -> list[dict]:
    with uow_factory() as uow:
        rows = uow.refunds.refunds_by_status(status, today=today, limit=limit, after=after)
    return [refund_view(r, today=today) for r in rows]


def overdue_count(uow_factory: Callable, *, today: date) -> int:
    with uow_factory() as uow:
        return uow.refunds.overdue_count(today)


def refund_view(row: dict, *, today: date | None = None) -> dict:
    today = today or date.today()
    return {
        "id": row["id"], "rma": row["rma"], "order_ref": row["order_ref"],
        "line_no": row["line_no"], "line_ref": row["line_ref"], "sku": row["sku"],
        "size": row["size"], "status": row["status"], "timing": row["timing"],
        "units": row["units"], "unit_price": str(row["unit_price"]),
        "goods": str(row["goods"]), "shipping_refund": str(row["shipping_refund"]),
        "deductions": [{**d, "amount": str(d["amount"])} for d in row["deductions"]],
        "total": str(row["total"]), "method": row["method"],
        "due_on": row["due_on"],
        "overdue": row["status"] == "due" and row["due_on"] < today,
        "paid_at": row["paid_at"],
        "payment_ref": row["payment_ref"],
    }


def _add_refund(uow, ctx: dict, figures: RefundFigures, *, timing: RefundTiming, actor: str,
                today: date) -> dict:
    row, deductions = refund_row(ctx, figures, timing=timing, actor=actor, today=today)
    refund_id = uow.refunds.add_refund(deductions, **row)
    payload = due_payload(refund_id, ctx, figures, row, deductions)
    uow.events.add("refund.due", payload, actor=actor)
    return payload


def refund_row(ctx: dict, figures: RefundFigures, *, timing: RefundTiming, actor: str,
               today: date) -> tuple[dict, list[dict]]:
    """The refunds row for a line's figures, and its deductions' rows."""
    deductions = [{"code": d.code, "label": d.label, "amount": d.amount}
                  for d in figures.deductions]
    row = dict(
        return_id=ctx["return_id"], return_line_id=ctx["line_id"], status="due",
        timing=timing.value, units=figures.units, unit_price=figures.unit_price,
        goods=figures.goods, shipping_refund=figures.shipping_refund, total=figures.total,
        method=ctx["refund_method"], due_on=today + timedelta(days=ctx["refund_within_days"]),
        actor=actor,
    )
    return row, deductions


def due_payload(refund_id: int, ctx: dict, figures: RefundFigures, row: dict,
                deductions: list[dict]) -> dict:
    """The `refund.due` event of a refund just added."""
    return {
        "refund_id": refund_id,
        "rma": ctx["rma"],
        "order_ref": ctx["order_ref"],
        "line_ref": ctx["line_ref"],
        "timing": row["timing"],
        "quantity": figures.units,  # kept from before refunds had rows: the units refunded
        "units": figures.units,
        "unit_price": str(figures.unit_price),
        "goods": str(figures.goods),
        "shipping_refund": str(figures.shipping_refund),
        "deductions": [{**d, "amount": str(d["amount"])} for d in deductions],
        "amount": str(figures.total),
        "total": str(figures.total),
        "method": ctx["refund_method"],
        "due_on": row["due_on"].isoformat(),
    }
