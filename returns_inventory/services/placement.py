"""Moving a returned unit between conditions, always through the ledger."""

from __future__ import annotations

from ..domain.grading import ReturnUnit, placements
from ..domain.stock import BalanceKey, Condition, Movement, MovementType
from .ledger import lock_in_order, post_movement


def move_unit(
    uow,
    unit: ReturnUnit,
    target: Condition | None,
    *,
    actor: str,
    reason: str,
    leaving_as: MovementType = MovementType.WRITE_OFF,
) -> list[int]:
    """Post the legs that take the unit from its condition to `target` (None: out of stock)."""
    movement_ids = []
    legs = placements(unit.condition, target, leaving_as)
    # A re-grade from sellable to repair and a repair outcome from repair to sellable would
    # otherwise lock the same two balances in opposite orders.
    lock_in_order(uow, [BalanceKey(unit.item_id, unit.location_id, leg.condition) for leg in legs])
    for leg in legs:
        posted = post_movement(
            uow,
            Movement(
                item_id=unit.item_id,
                location_id=unit.location_id,
                condition=leg.condition,
                movement_type=leg.movement_type,
                quantity=leg.quantity,
                reason=reason,
                reference=unit.unit_code,
                actor=actor,
            ),
        )
        movement_ids.append(posted.movement_id)
    unit.condition = target
    return movement_ids
