"""Exchanges: reserve the replacement size, release it, or ship it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..domain.errors import Conflict, FieldError, NotFound
from ..domain.stock import BalanceKey, Condition, Movement, MovementType
from .ledger import balance_order, post_movement


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


def reserve_exchange(uow, policies, request: ExchangeRequest, *, actor: str) -> dict:
    """Reserve the replacement from a location that has it, inside the caller's transaction.

    Without stock anywhere the line falls back to a refund or a backorder when the request
    allows it; otherwise the whole authorization is refused with the alternatives listed.
    """
    sizes = uow.returns.sizes_of_sku(request.sku)
    item_id = sizes.get(request.size)
    if item_id is None:
        raise NotFound(
            f"no item {request.sku} in size {request.size} to exchange for",
            errors=[FieldError("exchange_size", "unknown sku/size", request.row)],
        )
    # A plain read may be stale: another return can take the last unit before we reserve it.
    # Lock every location that has stock (in balance order), then choose from figures nobody
    # can change under us, so a lost race falls back or lists alternatives instead of failing
    # on the ledger's availability check.
    held = [BalanceKey(item_id, s["location_id"], Condition.SELLABLE)
            for s in uow.returns.sellable_at([item_id])]
    for key in sorted(held, key=balance_order):
        uow.stock.lock_balance(key)
    stocked = [s for s in uow.returns.sellable_at([item_id]) if s["available"] >= request.quantity]
    if stocked:
        where = stocked[0]
        post_movement(
            uow,
            Movement(
                item_id=item_id,
                location_id=where["location_id"],
                condition=Condition.SELLABLE,
                movement_type=MovementType.RESERVATION,
                reserved_delta=request.quantity,
                reason="exchange reservation",
                reference=f"exchange:{request.line_id}",
                actor=actor,
            ),
        )
        expires = datetime.now(UTC) + timedelta(days=policies.returns.reservation_days)
        exchange_id = uow.returns.add_exchange(
            return_id=request.return_id,
            return_line_id=request.line_id,
            item_id=item_id,
            location_id=where["location_id"],
            quantity=request.quantity,
            status="reserved",
            expires_at=expires,
        )
        event = {
            "exchange_id": exchange_id,
            "sku": request.sku,
            "size": request.size,
            "location": where["location"],
            "quantity": request.quantity,
            "expires_at": expires.isoformat(),
        }
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
            status="backordered",
        )
        event = {
            "exchange_id": exchange_id,
            "sku": request.sku,
            "size": request.size,
            "quantity": request.quantity,
            "status": "backordered",
        }
        uow.events.add("exchange.backordered", event, actor=actor)
        return event
    if request.fallback == "refund":
        uow.returns.set_line_resolution(request.line_id, "refund")
        return {"status": "refund", "alternatives": alternatives}
    raise ExchangeUnavailable(
        f"{request.sku} {request.size} x{request.quantity} is not available anywhere; "
        "choose an alternative, or send fallback=refund or fallback=backorder",
        errors=[FieldError("exchange_size", "out of stock", request.row)],
        alternatives=alternatives,
    )


def _alternatives(uow, policies, request, sizes, item_id) -> list[dict]:
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


def release_reservation(uow, exchange_id: int, *, actor: str, why: str) -> bool:
    """Give a reserved replacement back to available stock (inside the caller's transaction).

    False when there was nothing to release (it shipped or was released meanwhile).
    """
    exchange = uow.returns.exchange(exchange_id, lock=True)
    if exchange is None or exchange["status"] != "reserved":
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
    uow.returns.set_exchange_status(exchange_id, "released")
    uow.events.add(
        "exchange.released",
        {"exchange_id": exchange_id, "reason": why, "quantity": exchange["quantity"]},
        actor=actor,
    )
    return True


def cancel_backorder(uow, exchange_id: int, *, actor: str, why: str) -> bool:
    """Tell the ERP a backordered replacement is no longer owed (inside the caller's
    transaction). Nothing was reserved, so no stock moves.

    False when there was nothing to cancel.
    """
    exchange = uow.returns.exchange(exchange_id, lock=True)
    if exchange is None or exchange["status"] != "backordered":
        return False
    uow.returns.set_exchange_status(exchange_id, "cancelled")
    uow.events.add(
        "exchange.cancelled",
        {"exchange_id": exchange_id, "reason": why, "quantity": exchange["quantity"]},
        actor=actor,
    )
    return True


def release_expired_reservations(
    uow_factory: Callable, *, now: datetime | None = None, actor: str = "job:exchange-expiry"
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


def ship_exchange(uow_factory: Callable, *, exchange_id: int, actor: str) -> dict:
    """The replacement left the building: consume its reservation and its stock."""
    with uow_factory() as uow:
        exchange = uow.returns.exchange(exchange_id, lock=True)
        if exchange is None:
            raise NotFound(f"no exchange {exchange_id}")
        if exchange["status"] != "reserved":
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
        uow.returns.set_exchange_status(exchange_id, "shipped")
        result = {
            "exchange_id": exchange_id,
            "status": "shipped",
            "quantity": quantity,
            "on_hand": posted.balance.on_hand,
            "reserved": posted.balance.reserved,
        }
        uow.events.add("exchange.shipped", result, actor=actor)
        uow.commit()
    return result
