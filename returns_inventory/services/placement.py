"""Moving a returned unit between conditions, always through the ledger."""

from __future__ import annotations

from ..domain.grading import ReturnUnit, placements
from ..domain.stock import Condition, Movement, MovementType
from .ledger import post_movement


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
    for leg in placements(unit.condition, target, leaving_as):
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
