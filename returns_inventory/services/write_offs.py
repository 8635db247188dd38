"""Write-offs above the approval threshold: an admin posts them or sends the unit back."""

from __future__ import annotations

from ..domain.errors import Conflict, NotFound, present
from ..domain.grading import WRITE_OFFS, Disposition, UnitStatus, WriteOffStatus
from ..persistence.uow import UowFactory
from .placement import move_unit
from .unit_outcomes import GradingResult, announce_write_off, grading_result


def list_write_offs(uow_factory: UowFactory, status: str, *, limit: int,
                    after: int | None) -> list[dict]:
    """Write-offs in one state, oldest first, from after the cursor ``after``."""
    with uow_factory() as uow:
        return uow.units.write_offs_by_status(status, limit=limit, after=after)


def decide_write_off(
    uow_factory: UowFactory, *, write_off_id: int, approve: bool, actor: str
) -> GradingResult:
    """An admin approves a costly write-off (it posts now) or sends the unit back to grading."""
    with uow_factory() as uow:
        # The unit first, then its write-off, as a re-grade does: the opposite order
        # deadlocks with a re-grade of the same unit. A write-off never changes its unit, so
        # the unlocked read names the right one; its status is read again under the locks.
        found = uow.units.write_off(write_off_id)
        if found is None:
            raise NotFound(f"no write-off {write_off_id}")
        unit = present(uow.units.unit_by_id(found["unit_id"], lock=True), "its unit")
        write_off = present(uow.units.write_off(write_off_id, lock=True), "the write-off")
        becomes = WriteOffStatus.POSTED if approve else WriteOffStatus.REJECTED
        if not WRITE_OFFS.allows(write_off["status"], becomes):
            raise Conflict(f"write-off {write_off_id} is already {write_off['status']}")
        if approve:
            move_unit(uow, unit, None, actor=actor, reason=write_off["reason"])
            unit.status = UnitStatus.WRITTEN_OFF
            uow.units.decide_write_off(write_off_id, becomes, actor, was=write_off["status"])
            announce_write_off(uow, unit, write_off["value"], write_off_id, actor)
        else:
            unit.status, unit.grade, unit.disposition = UnitStatus.AWAITING_GRADING, None, None
            uow.units.decide_write_off(write_off_id, becomes, actor, was=write_off["status"])
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
