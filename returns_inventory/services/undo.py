"""Undoing a grade made by mistake a moment ago, as a correction: nothing is edited.

Graders may undo only their own last grade, within `undo_window` seconds of it
(config/grading.toml). The unit goes back to quarantine through compensating ledger movements,
a pending write-off is withdrawn and a posted one reversed, the grading history gets an
`undo` record, and the outbox a `unit.graded` event of kind `undo` marked as a correction.
After the window, or for someone else's grade, a supervisor re-grades instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..domain.errors import Conflict, FieldError, NotFound
from ..domain.grading import UnitStatus, WriteOffStatus
from ..domain.stock import Condition
from ..persistence.repositories.refunds import WITHDRAWN
from ..persistence.uow import UowFactory
from .grading import _reverse_posted_write_off
from .placement import move_unit
from .policies import Policies
from .unit_outcomes import where_is

ASK_A_SUPERVISOR = "A supervisor can still correct it with a re-grade."


@dataclass(frozen=True)
class Undone:
    unit_id: str
    undone_grade: str
    undone_disposition: str
    status: str


def undoable_until(uow_factory: UowFactory, policies: Policies, *, unit_id: str, actor: str,
                   now: datetime | None = None) -> datetime | None:
    """When the window to undo this person's grade of this unit closes; None if it cannot be."""
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id)
        if unit is None:
            return None
        try:
            last = _undoable(uow, policies, unit, actor, now or datetime.now(UTC))
        except Conflict:
            return None
    return last["created_at"] + timedelta(seconds=policies.grading.undo_window_seconds)


def undo_last_grade(uow_factory: UowFactory, policies: Policies, *, unit_id: str, actor: str,
                    now: datetime | None = None) -> Undone:
    """Put the unit back to waiting for grading, as compensating movements and a correction."""
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id, lock=True)
        if unit is None:
            raise NotFound(f"no unit {unit_id}", errors=[FieldError("unit_id", "unknown")])
        last = _undoable(uow, policies, unit, actor, now or datetime.now(UTC))
        where = where_is(uow, unit)
        _withdraw_outcome(uow, unit, actor)
        pending = uow.units.pending_write_off_of(unit.id)
        if pending:
            # Never announced to the ERP: withdrawn, with nothing to take back.
            uow.units.decide_write_off(pending["id"], WriteOffStatus.SUPERSEDED, actor,
                                       was=pending["status"])
        if unit.status is UnitStatus.WRITTEN_OFF:
            _reverse_posted_write_off(uow, unit, actor, where)
        why = f"undo grade {last['grade']}: graded by mistake"
        move_unit(uow, unit, Condition.QUARANTINE, actor=actor, reason=why)
        unit.status, unit.grade, unit.disposition, unit.defects = (
            UnitStatus.AWAITING_GRADING, None, None, [])
        uow.units.save_unit(unit)
        uow.units.add_grading(
            unit.id, kind="undo", grade=None, defects=[], disposition=last["disposition"],
            rule="undone by its grader", actor=actor,
            reason=f"undoes grade {last['grade']} of {last['created_at']:%H:%M:%S} UTC")
        uow.events.add("unit.graded", {
            "unit_id": unit.unit_code, "kind": "undo", "correction": True,
            "grade": None, "defects": [], "disposition": None,
            "undoes": {"grade": last["grade"], "disposition": last["disposition"]},
            "status": unit.status.value, **where,
        }, actor=actor)
        uow.commit()
    return Undone(unit.unit_code, last["grade"], last["disposition"], unit.status.value)


def _undoable(uow, policies: Policies, unit, actor: str, now: datetime) -> dict:
    """The grading record to undo, or Conflict saying in words why there is none."""
    code = unit.unit_code
    last = uow.bench.last_grading_of(unit.id)
    if last is None:
        raise Conflict(f"Unit {code} has not been graded, so there is nothing to undo.")
    if last["kind"] == "undo":
        raise Conflict(f"The grade of unit {code} was already undone; it is waiting for "
                       "grading again.", unit_status=unit.status.value)
    if last["kind"] != "grade" or last["actor"] != actor:
        raise Conflict(f"Unit {code} was last changed by {last['actor']} ({last['kind']}); "
                       f"only your own last grade can be undone. {ASK_A_SUPERVISOR}")
    mine = uow.bench.last_grading_by(actor, since=last["created_at"])
    if mine is not None and mine["id"] != last["id"]:
        raise Conflict(f"You have graded unit {mine['unit_code']} since; only your last grade "
                       f"can be undone. {ASK_A_SUPERVISOR}")
    window = policies.grading.undo_window_seconds
    if now - last["created_at"] > timedelta(seconds=window):
        raise Conflict(f"Unit {code} was graded more than {_span(window)} ago, too long to "
                       f"undo. {ASK_A_SUPERVISOR}")
    if unit.status is UnitStatus.AWAITING_GRADING:
        raise Conflict(f"A supervisor sent unit {code}'s write-off back; it is waiting for "
                       "grading again.")
    if unit.status is UnitStatus.WRITTEN_OFF and not _posted_by_grade(uow, unit, actor):
        raise Conflict(f"A supervisor has already approved unit {code}'s write-off. "
                       f"{ASK_A_SUPERVISOR}")
    return last


def _withdraw_outcome(uow, unit, actor: str) -> None:
    """What the grade decided the customer gets is withdrawn with it (a `withdrawn` row, so
    nothing counts the unit as judged until it is graded again); one that already settled a
    refund or sent the unit back to the customer has left the building: refused."""
    if unit.return_line_id is None:
        return  # a blind receipt: nobody was answered
    # The return locked first, as the settlement step takes it: the outcome read next is
    # either settled already (refused below) or withdrawn before any pass can settle it.
    uow.refunds.line_context(unit.return_line_id, lock=True)
    [outcome] = uow.refunds.outcomes_in_force(unit_id=unit.id) or [None]
    if outcome is None:
        return
    if outcome["refund_id"] is not None or outcome["outcome"] == "refuse":
        raise Conflict(
            f"Grading unit {unit.unit_code} already decided what the customer gets "
            f"({outcome['outcome']}{', refund issued' if outcome['refund_id'] else ''}), so "
            f"it cannot be undone here. {ASK_A_SUPERVISOR}")
    uow.refunds.add_outcome(
        unit_id=unit.id, return_id=outcome["return_id"],
        return_line_id=outcome["return_line_id"], kind=WITHDRAWN, outcome=outcome["outcome"],
        rule=outcome["rule"], deductions=outcome["deductions"], failed=outcome["failed"],
        unit_price=outcome["unit_price"], amount=outcome["amount"],
        reason="the grade was undone by its grader", actor=actor)


def _posted_by_grade(uow, unit, actor: str) -> bool:
    """A write-off the grade itself posted (under the approval threshold) may be undone; one a
    supervisor approved since is theirs to correct."""
    return uow.bench.write_off_decided_by(unit.id) == actor


def _span(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
