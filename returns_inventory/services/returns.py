"""Authorizing and cancelling returns."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed, line_field
from ..domain.returns import (
    ExchangeStatus,
    Resolution,
    ReturnRefused,
    ReturnsPolicy,
    ReturnStatus,
    SoldLine,
)
from ..persistence.uow import UnitOfWork, UowFactory
from .exchanges import (
    ExchangeRequest,
    cancel_backorder,
    release_reservation,
    reserve_exchange,
)
from .policies import Policies


@dataclass(frozen=True)
class ReturnLineRequest:
    line_ref: str
    quantity: int
    reason: str
    resolution: str = "refund"
    exchange_sku: str | None = None
    exchange_size: str | None = None
    fallback: str | None = None  # "refund" or "backorder" when the exchange is out of stock
    condition_met: bool = True
    note: str | None = None
    # The customer's own check, e.g. {"tags_on": true, "unworn": true, "unwashed": false}.
    condition: dict[str, bool] | None = None

    def declared(self, required: tuple[str, ...]) -> tuple[bool, list[str]]:
        """Whether the condition is met, and which checks the customer declared met."""
        if self.condition is None:
            return self.condition_met, list(required) if self.condition_met else []
        met = sorted(k for k, v in self.condition.items() if v)
        return all(self.condition.get(c, False) for c in required), met


@dataclass
class ReturnView:
    rma: str
    order_ref: str
    status: str
    shipping_paid_by: str
    lines: list[dict] = field(default_factory=list)
    exchanges: list[dict] = field(default_factory=list)
    units: list[dict] = field(default_factory=list)
    customer_note: str | None = None
    refund_timing: str | None = None
    refund_method: str | None = None
    address_ref: str | None = None
    # Units judged whose refund and answer the settlement step has not issued yet.
    settling: bool = False


def new_rma() -> str:
    return "RMA-" + secrets.token_hex(5).upper()


def authorize_return(
    uow_factory: UowFactory,
    policies: Policies,
    *,
    order_ref: str,
    lines: list[ReturnLineRequest],
    actor: str,
    gift: bool = False,
    customer_note: str | None = None,
    requested_on: date | None = None,
    today: date | None = None,
    address_ref: str | None = None,
) -> ReturnView:
    """Authorize a return for lines of a known sale, or record why the policy refused it.

    ``today`` is the business day it is authorized on; only a replay of history passes one."""
    if not lines:
        raise ValidationFailed(
            "a return needs at least one line", errors=[FieldError("lines", "at least one line")]
        )
    policy = policies.returns
    today = today or policy.today()
    if requested_on is None:
        requested_on = today
    else:
        policy.check_requested_on(requested_on, today=today)
    with uow_factory() as uow:
        rma = new_rma()
        try:
            checked = _checked_lines(uow, policy, order_ref, lines, requested_on=requested_on,
                                     gift=gift)
        except ReturnRefused as refusal:
            uow.rollback()
            _record_rejection(
                uow_factory, rma, order_ref, lines, refusal, actor, gift, requested_on, policies
            )
            refusal.extra["rma"] = rma
            raise
        payer = policy.shipping_payer([policy.reason(line.reason) for line in lines])
        # The refund terms of the sale's channel today are the ones this return keeps.
        terms = policies.inspection.terms(checked[0][2].channel)
        return_id = uow.returns.add_return(
            refund_timing=terms.timing.value,
            refund_method=terms.method.value,
            refund_within_days=terms.within_days,
            address_ref=address_ref,
            rma=rma,
            order_ref=order_ref,
            sold_channel=checked[0][2].channel,
            status=ReturnStatus.AUTHORIZED.value,
            gift=gift,
            shipping_paid_by=payer.value,
            customer_note=customer_note,
            requested_on=requested_on,
            actor=actor,
        )
        reservations = _add_lines(uow, return_id, checked, policy.condition_required)
        if len(reservations) > 1:
            # Reserve in balance order (by item), like every other multi-balance change.
            reservations.sort(key=lambda r: uow.returns.sizes_of_sku(r.sku).get(r.size, 0))
        for request in reservations:
            reserve_exchange(uow, policies, request, actor=actor)
        view = return_view(uow, rma)
        uow.events.add("return.authorized", _payload(view), actor=actor)
        uow.commit()
    return view


Checked = list[tuple[int, ReturnLineRequest, SoldLine]]


def _checked_lines(uow: UnitOfWork, policy: ReturnsPolicy, order_ref: str,
                   lines: list[ReturnLineRequest], *, requested_on: date,
                   gift: bool) -> Checked:
    """Each line with its row and its sold line, once the policy accepts all of them;
    ReturnRefused for the first it does not. The sold lines stay locked until commit."""
    refs = sorted({line.line_ref for line in lines})
    if len(refs) > 1:
        # Lock the sold lines in one order, whatever order the request lists them in: two
        # returns of one order naming them in opposite orders deadlock on PostgreSQL.
        for line_ref in refs:
            uow.returns.sold_line(order_ref, line_ref, lock=True)
    claimed: dict[int, int] = {}
    checked: Checked = []
    for row, line in enumerate(lines):
        sold = uow.returns.sold_line(order_ref, line.line_ref, lock=True)
        if sold is None:
            raise NotFound(
                f"no sale line {order_ref}/{line.line_ref}",
                errors=[FieldError(line_field(row, "line_ref"), "unknown sale line")],
            )
        reason = _reason(policy, line, row)
        _check_resolution(line, row)
        if sold.sales_line_id not in claimed:
            claimed[sold.sales_line_id] = uow.returns.claimed_quantity(sold.sales_line_id)
        policy.check_line(
            sold,
            quantity=line.quantity,
            reason=reason,
            already_claimed=claimed[sold.sales_line_id],
            requested_on=requested_on,
            gift=gift,
            condition_met=line.declared(policy.condition_required)[0],
            row=row,
        )
        claimed[sold.sales_line_id] += line.quantity
        checked.append((row, line, sold))
    return checked


def _add_lines(uow: UnitOfWork, return_id: int, checked: Checked,
               required: tuple[str, ...]) -> list[ExchangeRequest]:
    """Write the return's lines, each with the condition its customer declared; the
    replacements its exchange lines ask for."""
    reservations: list[ExchangeRequest] = []
    for row, line, sold in checked:
        line_id = uow.returns.add_line(
            return_id=return_id,
            line_no=row + 1,
            sales_line_id=sold.sales_line_id,
            item_id=sold.item_id,
            quantity=line.quantity,
            reason=line.reason,
            resolution=line.resolution,
            condition_met=line.declared(required)[0],
            declared_condition=line.declared(required)[1],
            note=line.note,
        )
        if line.resolution == Resolution.EXCHANGE:
            reservations.append(
                ExchangeRequest(
                    return_id,
                    line_id,
                    line.exchange_sku or sold.sku,
                    line.exchange_size or sold.size,
                    line.quantity,
                    line.fallback,
                    row,
                )
            )
    return reservations


def cancel_return(uow_factory: UowFactory, *, rma: str, actor: str) -> ReturnView:
    """Cancel an authorized return before any unit arrived; release its reservations and
    cancel its backorders."""
    with uow_factory() as uow:
        found = uow.returns.return_by_rma(rma, lock=True)
        if found is None:
            raise NotFound(f"no return {rma}")
        if found["status"] != ReturnStatus.AUTHORIZED.value:
            raise Conflict(f"return {rma} is {found['status']} and cannot be cancelled")
        if uow.units.units_of(found["id"]):
            raise Conflict(f"units of {rma} have already been received; it cannot be cancelled")
        # Released in balance order, so two cancellations never lock stock in opposite orders.
        held = sorted(
            uow.returns.exchanges_of(found["id"]),
            key=lambda ex: (ex["item_id"], ex["location_id"] or 0),
        )
        shipped = Conflict(f"a replacement of {rma} has shipped; it cannot be cancelled, "
                           "only received")
        if any(exchange["status"] == ExchangeStatus.SHIPPED for exchange in held):
            # The customer has the replacement: cancelling would free the sold unit to be
            # returned again, for a refund this time.
            raise shipped
        for exchange in held:
            if exchange["status"] in {ExchangeStatus.RESERVED, ExchangeStatus.RELEASED}:
                # The expiry job may release it after we read it; then nothing is left to
                # give back, and it is closed all the same.
                release_reservation(uow, exchange["id"], actor=actor, why="return cancelled")
                # It may have shipped since we read it (a ship locks only the exchange, which
                # the release has now locked): then the whole cancel is refused, not the
                # shipped exchange marked cancelled.
                now = uow.returns.exchange(exchange["id"])
                if now is not None and now["status"] == ExchangeStatus.SHIPPED:
                    raise shipped
                # Closed, not "released": "released" lists expired reservations someone
                # should act on, and nobody may act on a cancelled return's exchange.
                uow.returns.set_exchange_status(exchange["id"], ExchangeStatus.CANCELLED,
                                                was=ExchangeStatus.RELEASED)
            elif exchange["status"] == ExchangeStatus.BACKORDERED:
                cancel_backorder(uow, exchange["id"], actor=actor, why="return cancelled")
        uow.returns.set_return_status(found["id"], ReturnStatus.CANCELLED.value)
        view = return_view(uow, rma)
        uow.events.add("return.cancelled", _payload(view), actor=actor)
        uow.commit()
    return view


def get_return(uow_factory: UowFactory, rma: str) -> ReturnView:
    with uow_factory() as uow:
        return return_view(uow, rma)


def return_view(uow: UnitOfWork, rma: str) -> ReturnView:
    found = uow.returns.return_by_rma(rma)
    if found is None:
        raise NotFound(f"no return {rma}")
    lines = [
        {
            "line_no": ln["line_no"],
            "line_ref": ln["line_ref"],
            "sku": ln["sku"],
            "size": ln["size"],
            "quantity": ln["quantity"],
            "received_quantity": ln["received_quantity"],
            "reason": ln["reason"],
            "resolution": ln["resolution"],
            "condition_met": ln["condition_met"],
            "declared_condition": ln["declared_condition"],
            "unit_price": str(ln["unit_price"]),
            "note": ln["note"],
        }
        for ln in uow.returns.lines_of(found["id"])
    ]
    exchanges = [
        {
            "id": ex["id"],
            "line_id": ex["return_line_id"],
            "sku": ex["sku"],
            "size": ex["size"],
            "location": ex["location"],
            "quantity": ex["quantity"],
            "status": ex["status"],
            "expires_at": ex["expires_at"].isoformat() if ex["expires_at"] else None,
        }
        for ex in uow.returns.exchanges_of(found["id"])
    ]
    # What inspection decided for each unit's customer (after any override); None until graded.
    outcomes = {o["unit_code"]: o for o in uow.refunds.outcomes_in_force(return_id=found["id"])}
    units = [
        {
            "unit_id": u.unit_code,
            "label_code": u.unit_code,
            "status": u.status.value,
            "grade": u.grade.value if u.grade else None,
            "outcome": outcomes[u.unit_code]["outcome"] if u.unit_code in outcomes else None,
            # Judged, its refund and the customer's answer a few seconds away.
            "settling": u.unit_code in outcomes and outcomes[u.unit_code]["settling"],
        }
        for u in uow.units.units_of(found["id"])
    ]
    return ReturnView(
        found["rma"],
        found["order_ref"],
        found["status"],
        found["shipping_paid_by"],
        lines,
        exchanges,
        units,
        found["customer_note"],
        refund_timing=found["refund_timing"],
        refund_method=found["refund_method"],
        address_ref=found["address_ref"],
        settling=any(u["settling"] for u in units),
    )


def _reason(policy, line: ReturnLineRequest, row: int):
    try:
        return policy.reason(line.reason)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.detail, errors=[
            FieldError(line_field(row, e.field), e.reason) for e in exc.errors]) from None


def _check_resolution(line: ReturnLineRequest, row: int) -> None:
    if line.resolution not in {r.value for r in Resolution}:
        raise ValidationFailed(
            f"unknown resolution {line.resolution!r}",
            errors=[FieldError(line_field(row, "resolution"), "one of refund, exchange, repair")],
        )
    if line.fallback not in (None, "refund", "backorder"):
        raise ValidationFailed(
            "fallback must be refund or backorder",
            errors=[FieldError(line_field(row, "fallback"), "refund or backorder")],
        )


def _record_rejection(
    uow_factory, rma, order_ref, lines, refusal, actor, gift, requested_on, policies
):
    """A refusal is a decision worth keeping: store it and tell the ERP."""
    payer = policies.returns.other_payer.value
    with uow_factory() as uow:
        uow.returns.add_return(
            rma=rma,
            order_ref=order_ref,
            sold_channel="unknown",
            status=ReturnStatus.REJECTED.value,
            gift=gift,
            shipping_paid_by=payer,
            rejection_rule=refusal.rule,
            rejection_detail=refusal.detail[:255],
            requested_on=requested_on,
            actor=actor,
        )
        uow.events.add(
            "return.rejected",
            {
                "rma": rma,
                "order_ref": order_ref,
                "rule": refusal.rule,
                "detail": refusal.detail,
                "lines": [
                    {"line_ref": ln.line_ref, "quantity": ln.quantity, "reason": ln.reason}
                    for ln in lines
                ],
            },
            actor=actor,
        )
        uow.commit()


def _payload(view: ReturnView) -> dict:
    return {
        "rma": view.rma,
        "order_ref": view.order_ref,
        "status": view.status,
        "shipping_paid_by": view.shipping_paid_by,
        "lines": view.lines,
        "exchanges": view.exchanges,
    }
