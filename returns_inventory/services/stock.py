"""Stock use cases: adjust a balance, check the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.errors import FieldError, IdempotencyMismatch, NotFound, ValidationFailed, present
from ..domain.stock import Condition, LedgerMismatch, Movement, MovementType
from ..persistence.uow import UowFactory
from .ledger import post_movement


@dataclass(frozen=True)
class AdjustmentResult:
    movement_id: int
    sku: str
    size: str
    location: str
    condition: str
    quantity: int
    on_hand: int
    reserved: int
    replayed: bool = False

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def adjust_stock(
    uow_factory: UowFactory,
    *,
    sku: str,
    size: str,
    location: str,
    condition: str,
    quantity: int,
    reason: str,
    actor: str,
    reference: str | None = None,
    idempotency_key: str | None = None,
) -> AdjustmentResult:
    """Correct a balance by a signed quantity, with the reason a person gave."""
    if not reason or not reason.strip():
        raise ValidationFailed(
            "an adjustment needs a reason", errors=[FieldError("reason", "required")]
        )
    ledger_key = f"{actor}/{idempotency_key}" if idempotency_key else None
    with uow_factory() as uow:
        if ledger_key and (done := uow.stock.movement_by_idempotency_key(ledger_key)):
            # The HTTP layer forgets keys after its retention; the ledger never does. A key
            # sent again with another adjustment must not answer the first one and drop it.
            asked = (sku, size, location, condition, quantity, reason.strip(), reference)
            if (done.sku, done.size, done.location, done.condition, done.quantity,
                    done.reason, done.reference) != asked:
                raise IdempotencyMismatch(
                    "this Idempotency-Key was used for a different adjustment",
                    errors=[FieldError("Idempotency-Key", "reused")],
                )
            return AdjustmentResult(
                done.id, done.sku, done.size, done.location, done.condition, done.quantity,
                done.on_hand_after, done.reserved_after, replayed=True,
            )
        item = uow.catalogue.item_by_sku_size(sku, size)
        if item is None:
            raise NotFound(f"no item {sku} in size {size}", errors=[FieldError("sku", "unknown")])
        place = uow.catalogue.location_by_code(location)
        if place is None:
            raise NotFound(f"no location {location}", errors=[FieldError("location", "unknown")])
        posted = post_movement(
            uow,
            Movement(
                item_id=present(item.id, "item id"),
                location_id=present(place.id, "location id"),
                condition=Condition(condition),
                movement_type=MovementType.ADJUSTMENT,
                quantity=quantity,
                reason=reason.strip(),
                reference=reference,
                actor=actor,
                idempotency_key=ledger_key,
            ),
        )
        result = AdjustmentResult(
            posted.written_id, sku, size, location, condition, quantity,
            posted.figures.on_hand, posted.figures.reserved,
        )
        uow.events.add(
            "stock.adjusted",
            {
                "movement_id": posted.movement_id, "sku": sku, "size": size,
                "location": location, "condition": condition, "quantity": quantity,
                "on_hand": result.on_hand, "reserved": result.reserved,
                "available": result.available, "reason": reason.strip(),
                "reference": reference,
            },
            actor=actor,
        )
        uow.commit()
    return result


def count_balances(uow_factory: UowFactory) -> int:
    """How many stock balances there are (what verify_ledger checked)."""
    with uow_factory() as uow:
        return uow.stock.balance_count()


def verify_ledger(uow_factory: UowFactory) -> list[LedgerMismatch]:
    """Every balance that does not equal the sum of its movements (empty when all is well)."""
    with uow_factory() as uow:
        return uow.stock.ledger_mismatches()
