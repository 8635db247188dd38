"""Moving a returned unit between conditions, always through the ledger."""

from __future__ import annotations

from ..domain.grading import ReturnUnit, placements
from ..domain.stock import Condition, Movement, MovementType
from ..persistence.uow import UnitOfWork
from .ledger import post_movements


def move_unit(
    uow: UnitOfWork,
    unit: ReturnUnit,
    target: Condition | None,
    *,
    actor: str,
    reason: str,
    leaving_as: MovementType = MovementType.WRITE_OFF,
) -> list[int | None]:
    """Post the legs that take the unit from its condition to `target` (None: out of stock)."""
    legs = placements(unit.condition, target, leaving_as)
    # One statement changes every leg's balance, locked in the ledger's one order: a re-grade
    # from sellable to repair and a repair outcome the other way cannot deadlock.
    posted = post_movements(uow, [
        Movement(
            item_id=unit.item_id,
            location_id=unit.location_id,
            condition=leg.condition,
            movement_type=leg.movement_type,
            quantity=leg.quantity,
            reason=reason,
            reference=unit.unit_code,
            actor=actor,
        )
        for leg in legs
    ])
    unit.condition = target
    return [p.movement_id for p in posted]
