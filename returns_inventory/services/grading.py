"""Grading returned units and reconciling each one, exactly once, into stock or write-off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..domain.grading import (
    REPAIR_OUTCOMES,
    Grade,
    GradingDecision,
    ReturnUnit,
    UnitStatus,
    WriteOffStatus,
)
from ..domain.text import check_note
from ..persistence.uow import UnitOfWork, UowFactory
from .claims import release_unit
from .inspection import judge, record, refused_disposition
from .policies import Policies
from .reconcile import Verdict, reconcile
from .tokens import refuse_if_revoked
from .unit_outcomes import GradingResult, where_is


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
    token_to_confirm: int | None = None,
) -> GradingResult:
    """Grade a unit waiting in quarantine and put it where its disposition says.

    A grade that writes off first calls `before_write_off(value, awaiting_approval)`, inside
    the transaction: raising there grades nothing (the bench's confirm step). A grade made
    with an API token remembered rather than looked up (services/tokens.py TokensSeen) names
    it in `token_to_confirm`: if it has been revoked, nothing is graded.
    """
    check_note(note, "note")
    policy = policies.grading
    grade_ = policy.grade_of(grade)
    ticked = policy.check_defects(defects or [])
    with uow_factory() as uow:
        # One round trip locks the unit and reads what deciding and announcing need.
        found = uow.units.unit_to_grade(unit_id, token_to_confirm)
        if found is None:
            # Confirmed before a revoked token may learn which units exist.
            refuse_if_revoked(token_to_confirm is not None
                              and uow.tokens.any_revoked([token_to_confirm]))
            raise NotFound(f"no unit {unit_id}", errors=[FieldError("unit_id", "unknown")])
        unit, details = found
        refuse_if_revoked(details["token_revoked"])
        unit.ensure_gradable()
        with uow.batched():  # the ledger lines, unit save and grading record sent together
            result = grade_locked_unit(
                uow, policies, unit, details, grade_, ticked,
                note=note, actor=actor, is_admin=is_admin, today=today,
                before_write_off=before_write_off,
            )
        uow.commit()
    return result


def grade_locked_unit(
    uow: UnitOfWork, policies: Policies, unit: ReturnUnit, details: dict, grade_: Grade,
    ticked: list[str],
    *, note: str | None, actor: str, is_admin: bool, today: date | None,
    before_write_off: Callable[[Decimal, bool], None] | None = None,
) -> GradingResult:
    """Decide and reconcile one gradable unit whose row this transaction has locked."""
    decision = _decide(uow, policies.grading, unit, grade_, ticked,
                       today or policies.returns.today(), details)
    where = {k: details[k] for k in ("sku", "size", "location")}
    # What the customer gets decides first: a refused unit goes back to them, not into stock.
    judgement = judge(uow, policies, unit, grade_, ticked, details.get("line"))
    if judgement is not None and judgement.decision.outcome == "refuse":
        decision = refused_disposition(policies, judgement.decision.rule)
    verdict = Verdict("grade", grade_, tuple(ticked), decision, actor, is_admin, note=note)
    result = reconcile(uow, policies, unit, verdict, where=where,
                       before_write_off=before_write_off, unit_cost=details.get("unit_cost"))
    if judgement is None:
        return result
    outcome = record(uow, policies, unit, judgement, actor=actor, where=where)
    return replace(result, outcome=outcome)


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
        release_unit(uow, unit.id, unit.unit_code)
        pending = uow.units.pending_write_off_of(unit.id)
        if pending:
            # Never announced, so nothing to take back.
            uow.units.decide_write_off(pending["id"], WriteOffStatus.SUPERSEDED, actor,
                                       was=pending["status"])
        where = where_is(uow, unit)
        if unit.status is UnitStatus.WRITTEN_OFF:
            _reverse_posted_write_off(uow, unit, actor, where)
        decision = _decide(uow, policy, unit, grade_, ticked, today or policies.returns.today())
        verdict = Verdict("regrade", grade_, tuple(ticked), decision, actor, is_admin=True,
                          note=note, reason=reason.strip())
        result = reconcile(uow, policies, unit, verdict, where=where)
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
    check_note(note, "note")
    outcomes = REPAIR_OUTCOMES
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
        verdict = Verdict("repair_outcome", grade_, tuple(unit.defects), decision, actor,
                          is_admin, note=note)
        result = reconcile(uow, policies, unit, verdict)
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
