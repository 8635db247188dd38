"""Write-offs above the approval threshold: an admin posts them or sends the unit back."""

from __future__ import annotations

from collections.abc import Callable

from ..domain.errors import Conflict, NotFound
from ..domain.grading import Disposition, UnitStatus
from .placement import move_unit
from .unit_outcomes import GradingResult, announce_write_off, grading_result


def decide_write_off(
    uow_factory: Callable, *, write_off_id: int, approve: bool, actor: str
) -> GradingResult:
    """An admin approves a costly write-off (it posts now) or sends the unit back to grading."""
    with uow_factory() as uow:
        # The unit first, then its write-off, as a re-grade does: the opposite order
        # deadlocks with a re-grade of the same unit. A write-off never changes its unit, so
        # the unlocked read names the right one; its status is read again under the locks.
        found = uow.units.write_off(write_off_id)
        if found is None:
            raise NotFound(f"no write-off {write_off_id}")
        unit = uow.units.unit_by_id(found["unit_id"], lock=True)
        write_off = uow.units.write_off(write_off_id, lock=True)
        if write_off["status"] != "pending_approval":
            raise Conflict(f"write-off {write_off_id} is already {write_off['status']}")
        if approve:
            move_unit(uow, unit, None, actor=actor, reason=write_off["reason"])
            unit.status = UnitStatus.WRITTEN_OFF
            uow.units.decide_write_off(write_off_id, "posted", actor)
            announce_write_off(uow, unit, write_off["value"], write_off_id, actor)
        else:
            unit.status, unit.grade, unit.disposition = UnitStatus.AWAITING_GRADING, None, None
            uow.units.decide_write_off(write_off_id, "rejected", actor)
        uow.units.save_unit(unit)
        result = grading_result(
            unit,
            unit.disposition or Disposition.WRITE_OFF,
            "write-off approved" if approve else "write-off rejected",
            "",
            write_off_id=write_off_id,
            value=write_off["value"],
        )
        uow.commit()
    return result
