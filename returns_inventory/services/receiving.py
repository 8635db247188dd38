"""Receiving returned parcels: every unit gets an id and a label and waits in quarantine."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed, line_field
from ..domain.grading import UnitStatus
from ..domain.inspection import InspectionPolicy, RefundTiming
from ..domain.returns import ReturnStatus
from ..domain.stock import BalanceKey, Condition, Movement, MovementType
from ..domain.text import check_note
from ..persistence.uow import UnitOfWork, UowFactory
from .ledger import lock_in_order, post_movement
from .policies import Policies
from .refunds import refund_on_receipt


@dataclass(frozen=True)
class ReceivedUnit:
    unit_id: str
    label_code: str
    sku: str
    size: str
    location: str
    line_no: int | None
    flagged_for_review: bool


def new_unit_code() -> str:
    # Short, upper-case and unambiguous enough to type from a label.
    return "U" + secrets.token_hex(5).upper()


def receive_units(
    uow_factory: UowFactory,
    *,
    rma: str,
    location: str,
    lines: list[dict],
    actor: str,
    received_at: datetime | None = None,
    policies: Policies | None = None,
) -> list[ReceivedUnit]:
    """Receive units of an authorized return at a location (any channel's return counts).

    `received_at` dates the arrival when a historical receipt is keyed in late (imports of
    past returns); by default it is now. The ledger still records when it was booked.
    A return refunded on receipt (its channel's policy when authorized) is owed the units
    now; one refunded on inspection, once they are graded (services/inspection.py).
    """
    with uow_factory() as uow:
        received = receive_in(uow, rma=rma, location=location, lines=lines, actor=actor,
                              received_at=received_at, policies=policies)
        uow.commit()
    return received


def receive_in(uow: UnitOfWork, *, rma: str, location: str, lines: list[dict], actor: str,
               received_at: datetime | None = None, note: str | None = None,
               policies: Policies | None = None) -> list[ReceivedUnit]:
    """receive_units in the caller's transaction; `note` is the dock's, on every unit."""
    found = uow.returns.return_by_rma(rma, lock=True)
    if found is None:
        raise NotFound(f"no return {rma}")
    if found["status"] != ReturnStatus.AUTHORIZED.value:
        raise Conflict(f"return {rma} is {found['status']}; nothing more can be received")
    place = _location(uow, location)
    by_no = {ln["line_no"]: ln for ln in uow.returns.lines_of(found["id"])}
    # Two parcels listing the same items in opposite orders must not deadlock on the
    # quarantine balances.
    lock_in_order(uow, [
        BalanceKey(by_no[w["line_no"]]["item_id"], place.id, Condition.QUARANTINE)
        for w in lines if w["line_no"] in by_no
    ])
    received: list[ReceivedUnit] = []
    for row, wanted in enumerate(lines):
        line = by_no.get(wanted["line_no"])
        if line is None:
            raise ValidationFailed(
                f"{rma} has no line {wanted['line_no']}",
                errors=[FieldError(line_field(row, "line_no"), "not on this return")],
            )
        quantity = wanted["quantity"]
        outstanding = line["quantity"] - line["received_quantity"]
        if quantity > outstanding:
            raise Conflict(
                f"line {line['line_no']} of {rma}: {quantity} received but only "
                f"{outstanding} of {line['quantity']} authorized units are outstanding",
                errors=[FieldError(line_field(row, "quantity"), "more than authorized")],
            )
        line["received_quantity"] += quantity
        uow.returns.add_received(line["id"], quantity)
        for _ in range(quantity):
            received.append(
                _receive_one(
                    uow,
                    item_id=line["item_id"],
                    sku=line["sku"],
                    size=line["size"],
                    place=place,
                    actor=actor,
                    return_id=found["id"],
                    line=line,
                    rma=rma,
                    received_at=received_at,
                    note=note,
                )
            )
        if (line["resolution"] == "refund"
                and found["refund_timing"] == RefundTiming.ON_RECEIPT):
            announce_refund(uow, policies, line_id=line["id"], quantity=quantity,
                            actor=actor)
    if all(ln["received_quantity"] >= ln["quantity"] for ln in by_no.values()):
        uow.returns.set_return_status(found["id"], ReturnStatus.RECEIVED.value)
    uow.units.count_received([u.unit_id for u in received])  # the returns analytics' sums
    return received


def announce_refund(uow: UnitOfWork, policies: Policies | None, *, line_id: int, quantity: int,
                    actor: str) -> Decimal:
    """Tell the ERP it owes the customer `quantity` units of a return line at the sale's
    price (the on_receipt choice); the ERP pays it. Returns the amount."""
    ctx = uow.refunds.line_context(line_id)
    policy = policies.inspection if policies is not None else InspectionPolicy()
    today = policies.returns.today() if policies is not None else datetime.now(UTC).date()
    return refund_on_receipt(uow, policy, ctx=ctx, quantity=quantity, actor=actor, today=today)


def receive_blind(
    uow_factory: UowFactory,
    *,
    sku: str,
    size: str,
    location: str,
    quantity: int,
    actor: str,
    note: str | None = None,
) -> list[ReceivedUnit]:
    """A parcel with no RMA: the units are taken in and flagged for someone to review."""
    check_note(note, "note")
    if quantity < 1:
        raise ValidationFailed(
            "quantity must be at least 1", errors=[FieldError("quantity", "at least 1")]
        )
    with uow_factory() as uow:
        received = receive_blind_in(uow, sku=sku, size=size, location=location,
                                    quantity=quantity, actor=actor, note=note)
        uow.commit()
    return received


def receive_blind_in(uow: UnitOfWork, *, sku: str, size: str, location: str, quantity: int,
                     actor: str, note: str | None = None) -> list[ReceivedUnit]:
    """receive_blind in the caller's transaction."""
    item = uow.catalogue.item_by_sku_size(sku, size)
    if item is None:
        raise NotFound(f"no item {sku} in size {size}", errors=[FieldError("sku", "unknown")])
    place = _location(uow, location)
    return [
        _receive_one(uow, item_id=item.id, sku=sku, size=size, place=place, actor=actor, note=note)
        for _ in range(quantity)
    ]


def _location(uow: UnitOfWork, code: str):
    place = uow.catalogue.location_by_code(code)
    if place is None:
        raise NotFound(f"no location {code}", errors=[FieldError("location", "unknown")])
    return place


def _receive_one(
    uow: UnitOfWork, *, item_id, sku, size, place, actor, return_id=None, line=None, note=None,
    rma=None, received_at=None,
) -> ReceivedUnit:
    code = new_unit_code()
    blind = line is None
    uow.units.add_unit(
        unit_code=code,
        return_id=return_id,
        return_line_id=line["id"] if line else None,
        item_id=item_id,
        location_id=place.id,
        status=UnitStatus.AWAITING_GRADING.value,
        condition=Condition.QUARANTINE.value,
        defects=[],
        note=note,
        blind=blind,
        flagged_for_review=blind,
        received_by=actor,
        **({"received_at": received_at} if received_at else {}),
    )
    post_movement(
        uow,
        Movement(
            item_id=item_id,
            location_id=place.id,
            condition=Condition.QUARANTINE,
            movement_type=MovementType.RECEIPT,
            quantity=1,
            reason="blind return receipt" if blind else "return receipt",
            reference=code,
            actor=actor,
        ),
    )
    unit = ReceivedUnit(code, code, sku, size, place.code, line["line_no"] if line else None, blind)
    uow.events.add(
        "unit.received",
        {
            "unit_id": code,
            "sku": sku,
            "size": size,
            "location": place.code,
            "rma": rma,
            "blind": blind,
        },
        actor=actor,
    )
    return unit
