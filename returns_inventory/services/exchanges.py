"""Exchanges: reserve the replacement size, release it, or ship it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..domain.errors import Conflict, FieldError, NotFound, line_field, present
from ..domain.returns import EXCHANGES, ExchangeStatus, ReturnStatus
from ..domain.stock import BalanceKey, Condition, Movement, MovementType
from ..persistence.uow import UnitOfWork, UowFactory
from .ledger import balance_order, post_movement
from .receiving import announce_refund
from .refunds import settle_line


class ExchangeUnavailable(Conflict):
    title = "Replacement not in stock"


@dataclass(frozen=True)
class ExchangeRequest:
    return_id: int
    line_id: int
    sku: str
    size: str
    quantity: int
    fallback: str | None = None
    row: int | None = None


def reserve_exchange(uow: UnitOfWork, policies, request: ExchangeRequest, *, actor: str) -> dict:
    """Reserve the replacement from a location that has it, inside the caller's transaction.

    Without stock anywhere the line falls back to a refund or a backorder when the request
    allows it; otherwise the whole authorization is refused with the alternatives listed.
    """
    sizes = uow.returns.sizes_of_sku(request.sku)
    item_id = sizes.get(request.size)
    if item_id is None:
        raise NotFound(
            f"no item {request.sku} in size {request.size} to exchange for",
            errors=[FieldError(line_field(request.row, "exchange_size"), "unknown sku/size")],
        )
    reserved = _reserve_where_available(uow, policies, item_id, request.quantity,
                                        line_id=request.line_id, actor=actor)
    if reserved is not None:
        where, expires = reserved
        exchange_id = uow.returns.add_exchange(
            return_id=request.return_id,
            return_line_id=request.line_id,
            item_id=item_id,
            location_id=where["location_id"],
            quantity=request.quantity,
            status=ExchangeStatus.RESERVED,
            expires_at=expires,
        )
        event = _reserved(exchange_id, request.sku, request.size, where, request.quantity,
                          expires)
        uow.events.add("exchange.reserved", event, actor=actor)
        return event
    alternatives = _alternatives(uow, policies, request, sizes, item_id)
    if request.fallback == "backorder":
        exchange_id = uow.returns.add_exchange(
            return_id=request.return_id,
            return_line_id=request.line_id,
            item_id=item_id,
            location_id=None,
            quantity=request.quantity,
            status=ExchangeStatus.BACKORDERED,
        )
        event = {
            "exchange_id": exchange_id,
            "sku": request.sku,
            "size": request.size,
            "quantity": request.quantity,
            "status": ExchangeStatus.BACKORDERED.value,
        }
        uow.events.add("exchange.backordered", event, actor=actor)
        return event
    if request.fallback == "refund":
        uow.returns.set_line_resolution(request.line_id, "refund")
        return {"status": "refund", "alternatives": alternatives}
    raise ExchangeUnavailable(
        f"{request.sku} {request.size} x{request.quantity} is not available anywhere; "
        "choose an alternative, or send fallback=refund or fallback=backorder",
        errors=[FieldError(line_field(request.row, "exchange_size"), "out of stock")],
        alternatives=alternatives,
    )


def _reserve_where_available(uow: UnitOfWork, policies, item_id: int, quantity: int, *,
                             line_id: int, actor: str) -> tuple[dict, datetime] | None:
    """Reserve `quantity` sellable units at the first location that has them all; where, and
    until when. None when no location has them."""
    # A plain read may be stale: another return can take the last unit before we reserve it.
    # Lock every location that has stock (in balance order), then choose from figures nobody
    # can change under us, so a lost race falls back or lists alternatives instead of failing
    # on the ledger's availability check.
    held = [BalanceKey(item_id, s["location_id"], Condition.SELLABLE)
            for s in uow.returns.sellable_at([item_id])]
    for key in sorted(held, key=balance_order):
        uow.stock.lock_balance(key)
    stocked = [s for s in uow.returns.sellable_at([item_id]) if s["available"] >= quantity]
    if not stocked:
        return None
    where = stocked[0]
    post_movement(
        uow,
        Movement(
            item_id=item_id,
            location_id=where["location_id"],
            condition=Condition.SELLABLE,
            movement_type=MovementType.RESERVATION,
            reserved_delta=quantity,
            reason="exchange reservation",
            reference=f"exchange:{line_id}",
            actor=actor,
        ),
    )
    return where, datetime.now(UTC) + timedelta(days=policies.returns.reservation_days)


def _reserved(exchange_id, sku, size, where, quantity, expires) -> dict:
    return {
        "exchange_id": exchange_id,
        "sku": sku,
        "size": size,
        "location": where["location"],
        "quantity": quantity,
        "expires_at": expires.isoformat(),
    }


def _alternatives(uow: UnitOfWork, policies, request, sizes, item_id) -> list[dict]:
    """Nearest sizes of the same SKU in stock, then partial stock of the wanted size."""
    others = [size for size in sizes if size != request.size]
    ranked = policies.returns.nearest_sizes(request.size, others)
    stock = uow.returns.sellable_at([sizes[s] for s in ranked] + [item_id])
    order = {size: i for i, size in enumerate(ranked)}
    nearest = sorted(
        (s for s in stock if s["size"] != request.size),
        key=lambda s: (order.get(s["size"], 99), -s["available"]),
    )
    partial = [s for s in stock if s["size"] == request.size]
    return [
        {
            "sku": s["sku"],
            "size": s["size"],
            "location": s["location"],
            "available": int(s["available"]),
        }
        for s in nearest + partial
    ]


def release_reservation(uow: UnitOfWork, exchange_id: int, *, actor: str, why: str) -> bool:
    """Give a reserved replacement back to available stock (inside the caller's transaction).

    False when there was nothing to release (it shipped or was released meanwhile).
    """
    exchange = uow.returns.exchange(exchange_id, lock=True)
    if exchange is None or not EXCHANGES.allows(exchange["status"], ExchangeStatus.RELEASED):
        return False
    post_movement(
        uow,
        Movement(
            item_id=exchange["item_id"],
            location_id=exchange["location_id"],
            condition=Condition.SELLABLE,
            movement_type=MovementType.RESERVATION,
            reserved_delta=-exchange["quantity"],
            reason=why,
            reference=f"exchange:{exchange['return_line_id']}",
            actor=actor,
        ),
    )
    uow.returns.set_exchange_status(exchange_id, ExchangeStatus.RELEASED, was=exchange["status"])
    uow.events.add(
        "exchange.released",
        {"exchange_id": exchange_id, "reason": why, "quantity": exchange["quantity"]},
        actor=actor,
    )
    return True


def cancel_backorder(uow: UnitOfWork, exchange_id: int, *, actor: str, why: str) -> bool:
    """Tell the ERP a backordered replacement is no longer owed (inside the caller's
    transaction). Nothing was reserved, so no stock moves.

    False when there was nothing to cancel.
    """
    exchange = uow.returns.exchange(exchange_id, lock=True)
    if exchange is None or exchange["status"] != ExchangeStatus.BACKORDERED:
        return False
    uow.returns.set_exchange_status(exchange_id, ExchangeStatus.CANCELLED, was=exchange["status"])
    uow.events.add(
        "exchange.cancelled",
        {"exchange_id": exchange_id, "reason": why, "quantity": exchange["quantity"]},
        actor=actor,
    )
    return True


def release_expired_reservations(
    uow_factory: UowFactory, *, now: datetime | None = None, actor: str = "job:exchange-expiry"
) -> int:
    """Release every reservation past its expiry; one short transaction each.

    Returns how many it released: one cancelled or shipped meanwhile is not counted.
    """
    now = now or datetime.now(UTC)
    with uow_factory() as uow:
        expired = uow.returns.expired_reservations(now)
    released = 0
    for exchange_id in expired:
        with uow_factory() as uow:
            released += release_reservation(uow, exchange_id, actor=actor,
                                            why="reservation expired")
            uow.commit()
    return released


def list_exchanges(uow_factory: UowFactory, status: str, *, limit: int,
                   after: int | None) -> list[dict]:
    """Exchanges in one state, oldest first, from after the cursor ``after``."""
    with uow_factory() as uow:
        return uow.returns.exchanges_by_status(status, limit=limit, after=after)


def ship_exchange(uow_factory: UowFactory, *, exchange_id: int, actor: str) -> dict:
    """The replacement left the building: consume its reservation and its stock."""
    with uow_factory() as uow:
        exchange = uow.returns.exchange(exchange_id, lock=True)
        if exchange is None:
            raise NotFound(f"no exchange {exchange_id}")
        if not EXCHANGES.allows(exchange["status"], ExchangeStatus.SHIPPED):
            raise Conflict(
                f"exchange {exchange_id} is {exchange['status']}; only a reserved "
                "replacement can ship"
            )
        quantity = exchange["quantity"]
        posted = post_movement(
            uow,
            Movement(
                item_id=exchange["item_id"],
                location_id=exchange["location_id"],
                condition=Condition.SELLABLE,
                movement_type=MovementType.SHIPMENT,
                quantity=-quantity,
                reserved_delta=-quantity,
                reason="exchange shipped",
                reference=f"exchange:{exchange['return_line_id']}",
                actor=actor,
            ),
        )
        uow.returns.set_exchange_status(exchange_id, ExchangeStatus.SHIPPED,
                                        was=exchange["status"])
        result = {
            "exchange_id": exchange_id,
            "status": ExchangeStatus.SHIPPED.value,
            "quantity": quantity,
            "on_hand": posted.figures.on_hand,
            "reserved": posted.figures.reserved,
        }
        uow.events.add("exchange.shipped", result, actor=actor)
        uow.commit()
    return result


def reserve_again(uow_factory: UowFactory, policies, *, exchange_id: int, actor: str) -> dict:
    """Try again to hold the replacement for an exchange whose reservation expired, or that
    was backordered: from a location that has it now, with a new expiry. Without stock
    anywhere it is refused with the alternatives, and stays as it was."""
    with uow_factory() as uow:
        exchange, line = _open_exchange(uow, exchange_id)
        if not EXCHANGES.allows(exchange["status"], ExchangeStatus.RESERVED):
            raise Conflict(f"exchange {exchange_id} is {exchange['status']}; only a released "
                           "reservation or a backorder can be reserved again")
        sku, size = exchange["sku"], exchange["size"]
        reserved = _reserve_where_available(uow, policies, exchange["item_id"],
                                            exchange["quantity"], line_id=line["id"],
                                            actor=actor)
        if reserved is None:
            request = ExchangeRequest(exchange["return_id"], line["id"], sku, size,
                                      exchange["quantity"])
            raise ExchangeUnavailable(
                f"{sku} {size} x{exchange['quantity']} is still not available anywhere; "
                "choose an alternative, or refund the line instead",
                errors=[FieldError("exchange_id", "out of stock")],
                alternatives=_alternatives(uow, policies, request, uow.returns.sizes_of_sku(sku),
                                           exchange["item_id"]),
            )
        where, expires = reserved
        uow.returns.reserve_exchange_at(exchange_id, was=exchange["status"],
                                        location_id=where["location_id"], expires_at=expires)
        event = _reserved(exchange_id, sku, size, where, exchange["quantity"], expires)
        uow.events.add("exchange.reserved", event, actor=actor)
        uow.commit()
    return {**event, "status": ExchangeStatus.RESERVED.value}


def refund_instead(uow_factory: UowFactory, policies, *, exchange_id: int, actor: str
                   ) -> dict:
    """The customer takes a refund instead of a replacement that has not shipped: any
    reservation goes back to stock and the line becomes a refund. Refunded on receipt, the
    units already received are due now (later receipts announce theirs as any refund line
    does); refunded on inspection, those already judged are, and the others when graded."""
    with uow_factory() as uow:
        exchange, line = _open_exchange(uow, exchange_id)
        was = exchange["status"]
        if was == ExchangeStatus.RESERVED:
            # The hold goes back to stock first; a released one has nothing left to give.
            release_reservation(uow, exchange_id, actor=actor, why="refunded instead")
            was = ExchangeStatus.RELEASED
        if not EXCHANGES.allows(was, ExchangeStatus.REFUNDED):
            raise Conflict(f"exchange {exchange_id} is {exchange['status']}; it cannot be "
                           "refunded instead")
        # The ERP hears that the replacement is no longer owed, received units or not.
        uow.events.add(
            "exchange.cancelled",
            {"exchange_id": exchange_id, "reason": "refunded instead",
             "quantity": exchange["quantity"]},
            actor=actor,
        )
        uow.returns.set_exchange_status(exchange_id, ExchangeStatus.REFUNDED, was=was)
        uow.returns.set_line_resolution(line["id"], "refund")
        amount = None
        ctx = uow.refunds.line_context(line["id"])
        if ctx["refund_timing"] == "on_receipt" and line["received_quantity"]:
            amount = announce_refund(uow, policies, line_id=line["id"],
                                     quantity=line["received_quantity"], actor=actor)
        elif ctx["refund_timing"] == "on_inspection":
            reason = policies.returns.reasons.get(ctx["reason"])
            settled = settle_line(uow, policies.inspection,
                                  {**ctx, "quality": bool(reason and reason.quality)},
                                  actor=actor, today=policies.returns.today())
            amount = settled["total"] if settled else None
        uow.commit()
    return {"exchange_id": exchange_id, "status": ExchangeStatus.REFUNDED.value,
            "quantity": exchange["quantity"],
            "refund_due": None if amount is None else str(amount)}


def _open_exchange(uow: UnitOfWork, exchange_id: int) -> tuple[dict, dict]:
    """The exchange and its return line, locked return first as cancelling does; refused
    once the return is cancelled."""
    exchange = uow.returns.exchange(exchange_id)
    if exchange is None:
        raise NotFound(f"no exchange {exchange_id}")
    found = present(uow.returns.return_by_id(exchange["return_id"], lock=True), "its return")
    if found["status"] == ReturnStatus.CANCELLED:
        raise Conflict(f"return {found['rma']} was cancelled; its exchange is closed")
    uow.returns.exchange(exchange_id, lock=True)
    [exchange] = [ex for ex in uow.returns.exchanges_of(found["id"]) if ex["id"] == exchange_id]
    [line] = [ln for ln in uow.returns.lines_of(found["id"])
              if ln["id"] == exchange["return_line_id"]]
    return exchange, {**line, "rma": found["rma"]}
