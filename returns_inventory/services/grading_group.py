"""Group commit for benches that grade one unit per request.

A grade's own work is small next to what its transaction costs (locks, round trips, commit),
so when several benches submit at once, the grades that arrive while one transaction runs are
graded together in the next one, each with its own result, as a database's group commit does
with its log. Nobody waits for a group to fill: a grade that finds nothing running starts at
once, alone.

What each caller sees is exactly `grade_unit`'s answer: if the shared transaction fails for
any reason (one unit already graded, a refusal, a deadlock), it rolls back whole and every
unit in it is graded again on its own, so one unit's problem never becomes another's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date

from ..persistence.uow import UowFactory
from .grading import grade_unit
from .grading_batch import UnitGrade, checked_grades, grade_checked
from .policies import Policies
from .unit_outcomes import GradingResult

MAX_GROUP = 32
# A group takes milliseconds; a grade queued longer than this goes on its own.
PATIENCE_SECONDS = 0.5


@dataclass(eq=False)
class _Ticket:
    grade: UnitGrade
    actor: str
    is_admin: bool
    today: date | None
    token_to_confirm: int | None
    result: GradingResult | None = None
    error: BaseException | None = None
    lead: bool = False
    woken: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> GradingResult:
        if self.error is not None:
            raise self.error
        if self.result is None:
            raise RuntimeError("answered before its group's transaction ended")
        return self.result


class GradingGroups:
    """One per database in a process; `grade` is safe to call from any number of threads."""

    def __init__(self, uow_factory: UowFactory, policies: Policies, max_group: int = MAX_GROUP,
                 patience: float = PATIENCE_SECONDS):
        self._uow_factory = uow_factory
        self._policies = policies
        self._max_group = max_group
        self._patience = patience
        self._lock = threading.Lock()
        self._waiting: list[_Ticket] = []
        self._running = False

    def grade(
        self,
        *,
        unit_id: str,
        grade: str,
        defects: list[str] | None = None,
        note: str | None = None,
        actor: str,
        is_admin: bool = False,
        today: date | None = None,
        token_to_confirm: int | None = None,
    ) -> GradingResult:
        """Grade one unit, as `grade_unit` does, sharing a transaction with concurrent grades."""
        policy = self._policies.grading
        # A request that is wrong on its face is refused here, without joining a group.
        policy.grade_of(grade)
        policy.check_defects(list(defects or []))
        ticket = _Ticket(UnitGrade(unit_id, grade, list(defects or []), note), actor, is_admin,
                         today, token_to_confirm)
        with self._lock:
            self._waiting.append(ticket)
            leads = not self._running
            self._running = True
        if not leads and not ticket.woken.wait(self._patience):
            with self._lock:
                # Still queued behind a transaction that is taking long (waiting for a lock,
                # say): grade alone, as before groups, rather than stall behind it.
                alone = not ticket.lead and ticket in self._waiting
                if alone:
                    self._waiting.remove(ticket)
            if alone:
                self._grade_alone(ticket)
                return ticket.answer()
            ticket.woken.wait()
        if leads or (ticket.lead and ticket.result is None and ticket.error is None):
            self._run_next_group()
        return ticket.answer()

    def _run_next_group(self) -> None:
        """Grade what is waiting (this thread's ticket first), then hand the lead on."""
        with self._lock:
            group = self._waiting[: self._max_group]
            del self._waiting[: self._max_group]
        try:
            self._grade(group)
        finally:
            with self._lock:
                if self._waiting:
                    # The next group is led by its first caller, so nobody answers late
                    # because they were busy grading other benches' units.
                    self._waiting[0].lead = True
                    self._waiting[0].woken.set()
                else:
                    self._running = False
            for ticket in group:
                if ticket.result is None and ticket.error is None:
                    ticket.error = RuntimeError("grading stopped before this unit was graded")
                ticket.woken.set()

    def _grade(self, group: list[_Ticket]) -> None:
        first: dict[str, _Ticket] = {}
        again: list[_Ticket] = []
        for ticket in group:
            # A second grade of a unit in the same group is answered after the group
            # commits, so it is refused exactly as it would be one after the other.
            if ticket.grade.unit_id in first:
                again.append(ticket)
            else:
                first[ticket.grade.unit_id] = ticket
        together = list(first.values())
        if len(together) > 1:
            try:
                results = grade_checked(
                    self._uow_factory, self._policies,
                    checked_grades(self._policies, [t.grade for t in together]),
                    actors=[(t.actor, t.is_admin) for t in together],
                    today=_same_day(together),
                    tokens_to_confirm=sorted({t.token_to_confirm for t in together
                                              if t.token_to_confirm is not None}),
                )
            except Exception:  # any failure: each unit again on its own, as grade_unit
                again = together + again
            else:
                for ticket, result in zip(together, results, strict=True):
                    ticket.result = result
        else:
            again = together + again
        for ticket in again:
            self._grade_alone(ticket)

    def _grade_alone(self, ticket: _Ticket) -> None:
        try:
            ticket.result = grade_unit(
                self._uow_factory, self._policies, unit_id=ticket.grade.unit_id,
                grade=ticket.grade.grade, defects=ticket.grade.defects, note=ticket.grade.note,
                actor=ticket.actor, is_admin=ticket.is_admin, today=ticket.today,
                token_to_confirm=ticket.token_to_confirm,
            )
        except Exception as exc:
            ticket.error = exc


def _same_day(tickets: list[_Ticket]) -> date | None:
    days = {t.today for t in tickets}
    if len(days) > 1:
        raise ValueError("a group grades on one business day")
    return days.pop()
