"""Grading a tote of units in one request: every unit in it, or none of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..domain.grading import AlreadyGraded, UnitStatus
from ..persistence.uow import UowFactory
from .grading import grade_locked_unit
from .ledger import posting_together
from .policies import Policies
from .tokens import refuse_if_revoked
from .unit_outcomes import GradingResult

MAX_UNITS_PER_BATCH = 200


@dataclass(frozen=True)
class UnitGrade:
    """What the bench decided for one unit."""

    unit_id: str
    grade: str
    defects: list[str] = field(default_factory=list)
    note: str | None = None


def grade_units(
    uow_factory: UowFactory,
    policies: Policies,
    *,
    grades: Sequence[UnitGrade],
    actor: str,
    is_admin: bool = False,
    today: date | None = None,
    token_to_confirm: int | None = None,
) -> list[GradingResult]:
    """Grade several units in one transaction, with the same rules and exactly-once guarantee
    as one at a time. If any unit cannot be graded, nothing is, and the problem names each
    entry at fault (`grades.N.field`), so a scanner that uploads a tote can fix and resend it.
    Results come back in the order the grades were given. `token_to_confirm` as grade_unit."""
    checked = checked_grades(policies, grades)
    return grade_checked(uow_factory, policies, checked, actors=[(actor, is_admin)] * len(grades),
                         today=today, token_to_confirm=token_to_confirm)


def grade_checked(
    uow_factory: UowFactory,
    policies: Policies,
    checked: Sequence[tuple],
    *,
    actors: Sequence[tuple[str, bool]],
    today: date | None = None,
    token_to_confirm: int | None = None,
) -> list[GradingResult]:
    """Grade entries that `checked_grades` passed in one transaction; `actors[n]` says who graded
    entry n and whether as admin. Results in entry order."""
    confirming = [] if token_to_confirm is None else [token_to_confirm]
    with uow_factory() as uow:
        found = uow.units.units_to_grade([g.unit_id for _, g, _, _ in checked], confirming)
        # Before anything about the units is told: a revoked token learns nothing. Only when
        # no unit was found (no row to carry the answer) does that take a statement.
        refuse_if_revoked(any(details["token_revoked"] for _, details in found.values())
                          if found else bool(confirming) and uow.tokens.any_revoked(confirming))
        missing = [FieldError(f"grades.{n}.unit_id", f"no unit {g.unit_id}")
                   for n, g, _, _ in checked if g.unit_id not in found]
        if missing:
            raise NotFound(f"{len(missing)} unit(s) do not exist; nothing was graded",
                           errors=missing)
        graded = [
            FieldError(f"grades.{n}.unit_id", f"already graded ({found[g.unit_id][0].status})")
            for n, g, _, _ in checked
            if found[g.unit_id][0].status is not UnitStatus.AWAITING_GRADING
        ]
        if graded:
            raise AlreadyGraded(
                f"{len(graded)} unit(s) already graded; nothing was graded",
                errors=graded,
            )
        # Each unit's stock legs start at its quarantine balance; taking units by item and
        # location gives every transaction the same lock order, so concurrent totes and
        # single grades queue instead of deadlocking.
        in_lock_order = sorted(checked, key=lambda c: _stock_order(found[c[1].unit_id][0]))
        results: dict[int, GradingResult] = {}
        # Every unit's stock legs in one statement at the end, rather than one per unit, and
        # its other rows in one statement per table.
        with posting_together(uow):
            for n, request, grade_, ticked in in_lock_order:
                unit, details = found[request.unit_id]
                actor, is_admin = actors[n]
                results[n] = grade_locked_unit(
                    uow, policies, unit, details, grade_, ticked,
                    note=request.note, actor=actor, is_admin=is_admin, today=today,
                )
        uow.commit()
    return [results[n] for n, *_ in checked]


def checked_grades(policies: Policies, grades: Sequence[UnitGrade]) -> list[tuple]:
    """Every entry's grade and defects checked against the policy, before any lock is taken."""
    if not grades:
        raise ValidationFailed("no grades given", errors=[FieldError("grades", "at least one")])
    if len(grades) > MAX_UNITS_PER_BATCH:
        raise ValidationFailed(
            f"at most {MAX_UNITS_PER_BATCH} units per request",
            errors=[FieldError("grades", f"at most {MAX_UNITS_PER_BATCH} entries")],
        )
    checked, errors = [], []
    first_seen: dict[str, int] = {}
    for n, request in enumerate(grades):
        try:
            grade_ = policies.grading.grade_of(request.grade)
            ticked = policies.grading.check_defects(list(request.defects or []))
        except ValidationFailed as exc:
            errors += [FieldError(f"grades.{n}.{e.field}", e.reason) for e in exc.errors]
            continue
        if request.unit_id in first_seen:
            errors.append(FieldError(
                f"grades.{n}.unit_id", f"also listed at grades.{first_seen[request.unit_id]}"))
            continue
        first_seen[request.unit_id] = n
        checked.append((n, request, grade_, ticked))
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the grades; nothing was graded", errors=errors
        )
    return checked


def _stock_order(unit) -> tuple[int, int, int]:
    return (unit.item_id, unit.location_id, unit.id)
