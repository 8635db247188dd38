"""Grading returned units and reconciling each one, exactly once, into stock or write-off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..domain.grading import (
    CONDITION_AFTER,
    RESTOCKING,
    STATUS_AFTER,
    Disposition,
    Grade,
    GradingDecision,
    ReturnUnit,
    UnitStatus,
    WriteOffStatus,
)
from ..domain.stock import Condition, MovementType
from ..domain.text import check_note
from ..persistence.uow import UnitOfWork, UowFactory
from .placement import move_unit
from .policies import Policies
from .unit_outcomes import GradingResult, announce_write_off, grading_result, where_is


def grade_unit(
    uow_factory: UowFactory,
    policies: Policies,
    *,
    unit_id: str,
    grade: str,
    defects: list[str] | None = None,
    note: str | None = None,
    actor: str,
    is_admin: bool = False,
    today: date | None = None,
    before_write_off: Callable[[Decimal, bool], None] | None = None,
) -> GradingResult:
    """Grade a unit waiting in quarantine and put it where its disposition says.

    A grade that writes off first calls `before_write_off(value, awaiting_approval)`, inside
    the transaction: raising there grades nothing (the bench's confirm step).
    """
    check_note(note, "note")
    policy = policies.grading
    grade_ = policy.grade_of(grade)
    ticked = policy.check_defects(defects or [])
    with uow_factory() as uow:
        # One round trip locks the unit and reads what deciding and announcing need.
        found = uow.units.unit_to_grade(unit_id)
        if found is None:
            raise NotFound(f"no unit {unit_id}", errors=[FieldError("unit_id", "unknown")])
        unit, details = found
        unit.ensure_gradable()
        with uow.batched():  # the two ledger movements in one statement
            result = grade_locked_unit(
                uow, policies, unit, details, grade_, ticked,
                note=note, actor=actor, is_admin=is_admin, today=today,
                before_write_off=before_write_off,
            )
        uow.commit()
    return result


def grade_locked_unit(
    uow, policies: Policies, unit: ReturnUnit, details: dict, grade_: Grade, ticked: list[str],
    *, note: str | None, actor: str, is_admin: bool, today: date | None,
    before_write_off: Callable[[Decimal, bool], None] | None = None,
) -> GradingResult:
    """Decide and reconcile one gradable unit whose row this transaction has locked."""
    decision = _decide(uow, policies.grading, unit, grade_, ticked,
                       today or policies.returns.today(), details)
    where = {k: details[k] for k in ("sku", "size", "location")}
    return _reconcile(uow, policies, unit, grade_, ticked, decision, actor=actor,
                      is_admin=is_admin, kind="grade", note=note, where=where,
                      before_write_off=before_write_off)


def regrade_unit(
    uow_factory: UowFactory,
    policies: Policies,
    *,
    unit_id: str,
    grade: str,
    reason: str,
    defects: list[str] | None = None,
    note: str | None = None,
    actor: str,
    today: date | None = None,
) -> GradingResult:
    """A supervisor corrects a grade: compensating movements, and the history is kept."""
    if not reason or not reason.strip():
        raise ValidationFailed(
            "a re-grade needs a reason", errors=[FieldError("reason", "required")]
        )
    policy = policies.grading
    grade_ = policy.grade_of(grade)
    ticked = policy.check_defects(defects or [])
    with uow_factory() as uow:
        unit = _locked_unit(uow, unit_id)
        if unit.status is UnitStatus.AWAITING_GRADING:
            raise Conflict(f"unit {unit_id} has not been graded yet; grade it instead")
        pending = uow.units.pending_write_off_of(unit.id)
        if pending:
            # Never announced, so nothing to take back.
            uow.units.decide_write_off(pending["id"], WriteOffStatus.SUPERSEDED, actor,
                                       was=pending["status"])
        where = where_is(uow, unit)
        if unit.status is UnitStatus.WRITTEN_OFF:
            _reverse_posted_write_off(uow, unit, actor, where)
        decision = _decide(uow, policy, unit, grade_, ticked, today or policies.returns.today())
        result = _reconcile(
            uow,
            policies,
            unit,
            grade_,
            ticked,
            decision,
            actor=actor,
            is_admin=True,
            kind="regrade",
            note=note,
            reason=reason.strip(),
            where=where,
        )
        uow.commit()
    return result


def record_repair_outcome(
    uow_factory: UowFactory,
    policies: Policies,
    *,
    unit_id: str,
    outcome: str,
    note: str | None = None,
    actor: str,
    is_admin: bool = False,
) -> GradingResult:
    """A repaired unit goes back to stock as A or B, or is scrapped (written off)."""
    outcomes = {
        "A": Disposition.RESTOCK_SELLABLE,
        "B": Disposition.RESTOCK_SECOND_QUALITY,
        "scrap": Disposition.WRITE_OFF,
    }
    if outcome not in outcomes:
        raise ValidationFailed(
            "outcome must be A, B or scrap", errors=[FieldError("outcome", "one of A, B, scrap")]
        )
    with uow_factory() as uow:
        unit = _locked_unit(uow, unit_id)
        if unit.status is not UnitStatus.IN_REPAIR:
            raise Conflict(f"unit {unit_id} is {unit.status.value}, not in repair")
        disposition = outcomes[outcome]
        decision = GradingDecision(
            disposition,
            f"repair outcome {outcome}",
            policies.grading.where_to_put_after(disposition),
        )
        grade_ = Grade(outcome) if outcome in {"A", "B"} else Grade.D
        result = _reconcile(
            uow,
            policies,
            unit,
            grade_,
            unit.defects,
            decision,
            actor=actor,
            is_admin=is_admin,
            kind="repair_outcome",
            note=note,
        )
        uow.commit()
    return result


def _locked_unit(uow: UnitOfWork, unit_id: str) -> ReturnUnit:
    # The row lock is what makes grading exactly-once when two benches submit at once.
    unit = uow.units.unit(unit_id, lock=True)
    if unit is None:
        raise NotFound(f"no unit {unit_id}", errors=[FieldError("unit_id", "unknown")])
    return unit


def _decide(uow: UnitOfWork, policy, unit, grade_, ticked, today, details=None) -> GradingDecision:
    details = details or uow.units.unit_details(unit.unit_code)
    return policy.decide(
        grade_,
        ticked,
        supplier=details["supplier"],
        sold_on=details["sold_on"],
        today=today,
    )


def _reconcile(
    uow, policies, unit, grade_, ticked, decision, *, actor, is_admin, kind, note=None,
    reason=None, where=None, before_write_off=None,
) -> GradingResult:
    """Move the unit out of where it sits into its disposition, in this transaction."""
    where = where or where_is(uow, unit)
    disposition = decision.disposition
    unit.grade, unit.defects, unit.disposition = grade_, list(ticked), disposition
    write_off_id = value = None
    awaiting = False
    if disposition is Disposition.WRITE_OFF:
        value = uow.catalogue.item(unit.item_id).unit_cost
        why = f"{kind} {grade_.value}: {', '.join(ticked) or 'no defects noted'}"
        awaiting = policies.returns.write_off_awaits_approval(value, is_admin=is_admin)
        if before_write_off is not None:
            before_write_off(Decimal(value), awaiting)
        if awaiting:
            # Costly write-offs wait in quarantine until an admin approves them.
            move_unit(uow, unit, Condition.QUARANTINE, actor=actor, reason=why)
            unit.status = UnitStatus.PENDING_WRITE_OFF
        else:
            move_unit(uow, unit, None, actor=actor, reason=why)
            unit.status = UnitStatus.WRITTEN_OFF
        write_off_id = uow.units.add_write_off(
            unit_id=unit.id,
            item_id=unit.item_id,
            location_id=unit.location_id,
            value=value,
            reason=why[:255],
            status=WriteOffStatus.PENDING_APPROVAL if awaiting else WriteOffStatus.POSTED,
            requested_by=actor,
            decided_by=None if awaiting else actor,
            posted_at=None if awaiting else datetime.now(UTC),
        )
        if not awaiting:
            announce_write_off(uow, unit, value, write_off_id, actor, where)
    else:
        leaving = (
            MovementType.RETURN_TO_VENDOR
            if disposition is Disposition.RETURN_TO_VENDOR
            else MovementType.WRITE_OFF
        )
        moved = move_unit(
            uow,
            unit,
            CONDITION_AFTER[disposition],
            actor=actor,
            reason=f"{kind} {grade_.value}: {decision.rule}",
            leaving_as=leaving,
        )
        unit.status = STATUS_AFTER[disposition]
        # A re-grade that leaves the unit where it was (A to A) moves no stock: the ERP
        # must not hear of a second restock.
        if disposition in RESTOCKING and moved:
            uow.events.add(
                "stock.restocked",
                {"unit_id": unit.unit_code, "condition": unit.condition.value, **where},
                actor=actor,
            )
    uow.units.save_unit(unit, actor=actor)
    uow.units.add_grading(
        unit.id,
        kind=kind,
        grade=grade_.value,
        defects=list(ticked),
        disposition=disposition.value,
        rule=decision.rule,
        note=note,
        reason=reason,
        actor=actor,
    )
    uow.events.add(
        "unit.graded",
        {
            "unit_id": unit.unit_code,
            "kind": kind,
            "grade": grade_.value,
            "defects": list(ticked),
            "disposition": disposition.value,
            "rule": decision.rule,
            "status": unit.status.value,
            **where,
        },
        actor=actor,
    )
    return grading_result(
        unit,
        disposition,
        decision.rule,
        # A write-off waiting for approval has not happened yet: the unit is kept, not binned.
        policies.grading.where_to_put_after(disposition, awaiting_approval=awaiting),
        write_off_id=write_off_id,
        value=value,
        awaiting=awaiting,
    )


def _reverse_posted_write_off(uow: UnitOfWork, unit: ReturnUnit, actor: str, where: dict) -> None:
    """The ERP booked the loss on `stock.written_off`; it must hear that it is taken back."""
    for reversed_ in uow.units.reverse_write_offs_of(unit.id, actor):
        uow.events.add(
            "stock.write_off_reversed",
            {
                "unit_id": unit.unit_code,
                "write_off_id": reversed_["id"],
                "value": str(reversed_["value"]),
                **where,
            },
            actor=actor,
        )
