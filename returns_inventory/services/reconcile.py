"""After a grade is decided: move the unit to its disposition, write it off (now, or once an
admin approves), and record and announce the grade, all in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from ..domain import grading as rules
from ..domain.errors import present
from ..domain.stock import Condition, MovementType
from ..persistence.uow import UnitOfWork
from .placement import move_unit
from .policies import Policies
from .unit_outcomes import GradingResult, announce_write_off, grading_result, where_is

# How a unit leaves the stock for a disposition that takes it out of the building.
_LEAVING_AS = {
    rules.Disposition.RETURN_TO_VENDOR: MovementType.RETURN_TO_VENDOR,
    rules.Disposition.RETURN_TO_CUSTOMER: MovementType.RETURN_TO_CUSTOMER,
}


@dataclass(frozen=True)
class Verdict:
    """What was decided about one unit, by whom, and on which occasion."""

    kind: str  # grade, regrade or repair_outcome
    grade: rules.Grade
    defects: tuple[str, ...]
    decision: rules.GradingDecision
    actor: str
    is_admin: bool = False
    note: str | None = None
    reason: str | None = None  # a supervisor's reason for a re-grade

    def words(self, detail: str) -> str:
        return f"{self.kind} {self.grade.value}: {detail}"


@dataclass(frozen=True)
class WriteOff:
    id: int | None = None
    value: Decimal | None = None
    awaiting: bool = False  # above the threshold: waits in quarantine for an admin


def reconcile(
    uow: UnitOfWork, policies: Policies, unit: rules.ReturnUnit, verdict: Verdict, *,
    where: dict | None = None,
    before_write_off: Callable[[Decimal, bool], None] | None = None,
    unit_cost: Decimal | None = None,
) -> GradingResult:
    """Move the unit out of where it sits into its disposition, in this transaction.
    `unit_cost`: the item's, when the caller read it already (a write-off is valued at it)."""
    where = where or where_is(uow, unit)
    disposition = verdict.decision.disposition
    unit.grade, unit.defects, unit.disposition = verdict.grade, list(verdict.defects), disposition
    if disposition is rules.Disposition.WRITE_OFF:
        written = _write_off(uow, policies, unit, verdict, where, before_write_off, unit_cost)
    else:
        written = WriteOff()
        _move_to_disposition(uow, unit, verdict, where)
    _record(uow, unit, verdict, where)
    return grading_result(
        unit,
        disposition,
        verdict.decision.rule,
        # A write-off waiting for approval has not happened yet: the unit is kept, not binned.
        policies.grading.where_to_put_after(disposition, awaiting_approval=written.awaiting),
        write_off_id=written.id,
        value=written.value,
        awaiting=written.awaiting,
    )


def _write_off(uow: UnitOfWork, policies: Policies, unit: rules.ReturnUnit, verdict: Verdict,
               where: dict, before_write_off: Callable[[Decimal, bool], None] | None,
               unit_cost: Decimal | None = None) -> WriteOff:
    """Post the write-off at the item's cost, or hold it in quarantine for an admin."""
    value = unit_cost if unit_cost is not None else present(
        uow.catalogue.item(unit.item_id), f"item {unit.item_id}").unit_cost
    why = verdict.words(", ".join(verdict.defects) or "no defects noted")
    awaiting = policies.returns.write_off_awaits_approval(value, is_admin=verdict.is_admin)
    if before_write_off is not None:
        before_write_off(Decimal(value), awaiting)
    if awaiting:
        # Costly write-offs wait in quarantine until an admin approves them.
        move_unit(uow, unit, Condition.QUARANTINE, actor=verdict.actor, reason=why)
        unit.status = rules.UnitStatus.PENDING_WRITE_OFF
    else:
        move_unit(uow, unit, None, actor=verdict.actor, reason=why)
        unit.status = rules.UnitStatus.WRITTEN_OFF
    write_off_id = uow.units.add_write_off(
        unit_id=unit.id,
        item_id=unit.item_id,
        location_id=unit.location_id,
        value=value,
        reason=why[:255],
        status=rules.WriteOffStatus.PENDING_APPROVAL if awaiting else rules.WriteOffStatus.POSTED,
        requested_by=verdict.actor,
        decided_by=None if awaiting else verdict.actor,
        posted_at=None if awaiting else datetime.now(UTC),
    )
    if not awaiting:
        announce_write_off(uow, unit, value, write_off_id, verdict.actor, where)
    return WriteOff(write_off_id, value, awaiting)


def _move_to_disposition(uow: UnitOfWork, unit: rules.ReturnUnit, verdict: Verdict,
                         where: dict) -> None:
    """Restock, second quality, repair or back to the vendor."""
    disposition = verdict.decision.disposition
    leaving = _LEAVING_AS.get(disposition, MovementType.WRITE_OFF)
    moved = move_unit(
        uow,
        unit,
        rules.CONDITION_AFTER[disposition],
        actor=verdict.actor,
        reason=verdict.words(verdict.decision.rule),
        leaving_as=leaving,
    )
    unit.status = rules.STATUS_AFTER[disposition]
    # A re-grade that leaves the unit where it was (A to A) moves no stock: the ERP
    # must not hear of a second restock.
    if disposition in rules.RESTOCKING and moved:
        uow.events.add(
            "stock.restocked",
            {"unit_id": unit.unit_code,
             "condition": present(unit.condition, "the restocked condition").value, **where},
            actor=verdict.actor,
        )


def _record(uow: UnitOfWork, unit: rules.ReturnUnit, verdict: Verdict, where: dict) -> None:
    """Save the unit, keep the grade in its history, and announce it."""
    decision = verdict.decision
    uow.units.save_unit(unit, actor=verdict.actor, batch=uow.batch)
    uow.units.add_grading(
        unit.id,
        batch=uow.batch,
        kind=verdict.kind,
        grade=verdict.grade.value,
        defects=list(verdict.defects),
        disposition=decision.disposition.value,
        rule=decision.rule,
        note=verdict.note,
        reason=verdict.reason,
        actor=verdict.actor,
    )
    uow.events.add(
        "unit.graded",
        {
            "unit_id": unit.unit_code,
            "kind": verdict.kind,
            "grade": verdict.grade.value,
            "defects": list(verdict.defects),
            "disposition": decision.disposition.value,
            "rule": decision.rule,
            "status": unit.status.value,
            **where,
        },
        actor=verdict.actor,
    )
