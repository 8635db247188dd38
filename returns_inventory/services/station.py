"""The grading bench: find what was scanned, grade it once per submitted form, show the result."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..domain.errors import FieldError, NotFound, present
from ..domain.grading import Disposition, UnitStatus
from ..persistence.uow import UnitOfWork, UowFactory
from .form_once import once, stored_answer
from .grading import grade_unit
from .inspection import line_context, preview, refused_disposition
from .photos import attach_photos
from .policies import Policies
from .unit_outcomes import GradingResult

STATION_FORM = "station"  # the bench form's one-time tokens are claimed as station:<token>


@dataclass(frozen=True)
class Scanned:
    """What a scanned code named: one unit, or a return and its units waiting for grading."""

    code: str
    unit_id: str | None = None
    rma: str | None = None
    waiting: list[dict] = dataclasses.field(default_factory=list)


@dataclass(frozen=True)
class BenchResult:
    result: GradingResult
    replayed: bool  # True when the form had been submitted before: this is the first answer


@dataclass(frozen=True)
class Foreseen:
    """What grading would do, told before anything is graded (the bench's confirm step)."""

    disposition: str
    where_to_put: str
    write_off_value: str | None = None  # set when this grade would write the unit off
    awaiting_approval: bool = False
    # What the customer would get (services/inspection.py); None for a blind receipt.
    customer: dict | None = None


class WriteOffUnconfirmed(Exception):
    """This grade writes the unit off, and the form did not confirm that value."""

    def __init__(self, value: Decimal, awaiting_approval: bool):
        super().__init__(f"writing off {value} needs a confirmation")
        self.value, self.awaiting_approval = str(value), awaiting_approval


def find_scanned(uow_factory: UowFactory, code: str) -> Scanned:
    """A unit label or an RMA, as typed or scanned (scanners and people differ in case)."""
    code = (code or "").strip()
    if not code:
        raise NotFound("Scan or type a unit label or an RMA.",
                       errors=[FieldError("code", "required")])
    with uow_factory() as uow:
        for candidate in dict.fromkeys([code, code.upper()]):
            if uow.units.unit(candidate) is not None:
                return Scanned(code, unit_id=candidate)
            found = uow.returns.return_by_rma(candidate)
            if found is not None:
                return Scanned(code, rma=candidate, waiting=_waiting(uow, found["id"]))
    raise NotFound(f"No unit label or RMA matches “{code}”. Check the label and scan again.",
                   errors=[FieldError("code", "unknown")])


def _waiting(uow: UnitOfWork, return_id: int) -> list[dict]:
    waiting = []
    for unit in uow.units.units_of(return_id):
        if unit.status is UnitStatus.AWAITING_GRADING:
            item = present(uow.catalogue.item(unit.item_id), f"item {unit.item_id}")
            waiting.append({"unit_id": unit.unit_code, "sku": item.sku, "size": item.size,
                            "description": item.description})
    return waiting


def foresee(uow_factory: UowFactory, policies: Policies, *, unit_id: str, grade: str,
            defects: list[str], is_admin: bool = False) -> Foreseen:
    """The disposition this grade and these defects would give the unit, and any write-off."""
    policy = policies.grading
    grade_, ticked = policy.grade_of(grade), policy.check_defects(defects)
    with uow_factory() as uow:
        details = uow.units.unit_details(unit_id)
        unit = uow.units.unit(unit_id)
        ctx = (line_context(uow, policies, unit.return_line_id)
               if unit is not None and unit.return_line_id else None)
    if details is None:
        raise NotFound(f"No unit {unit_id}.", errors=[FieldError("unit_id", "unknown")])
    customer = preview(policies, ctx, grade_, ticked) if ctx else None
    decision = policy.decide(grade_, ticked, supplier=details["supplier"],
                             sold_on=details["sold_on"], today=policies.returns.today())
    if customer and customer["outcome"] == "refuse":
        decision = refused_disposition(policies, customer["rule"])
    if decision.disposition is not Disposition.WRITE_OFF:
        return Foreseen(decision.disposition.value, decision.where_to_put, customer=customer)
    value = Decimal(details["unit_cost"])
    awaiting = policies.returns.write_off_awaits_approval(value, is_admin=is_admin)
    return Foreseen(decision.disposition.value,
                    policy.where_to_put_after(decision.disposition, awaiting_approval=awaiting),
                    str(value), awaiting, customer)


def grade_at_bench(
    uow_factory: UowFactory, policies: Policies, instance_path: Path, *, submission: str,
    unit_id: str, grade: str, defects: list[str], note: str | None,
    photos: list[tuple[str, str, bytes]], actor: str, is_admin: bool = False,
    confirmed_write_off: str | None = None,
) -> BenchResult:
    """Grade a unit from the bench form; the form's one-time token makes a double submit harmless
    (services/form_once.py): a second submission of the same form answers with the first
    result instead of grading again, or StillWorking while the first is still grading.

    A grade that writes the unit off grades only when `confirmed_write_off` is the value the
    grader was shown; otherwise WriteOffUnconfirmed, and nothing is graded. A keystroke that
    slipped through (a scanned label's D) can then never write a unit off unseen.
    """

    def work() -> GradingResult:
        # Check what can be checked before photos are written, so a refused grade stores none.
        policies.grading.grade_of(grade)
        policies.grading.check_defects(defects)
        _ensure_gradable(uow_factory, unit_id)
        seen = confirmation_check(confirmed_write_off)
        if photos:
            # Photos are stored before grading: an unconfirmed write-off must not store them.
            # The grading transaction asks again, and that answer is the one that counts.
            ahead = foresee(uow_factory, policies, unit_id=unit_id, grade=grade,
                            defects=defects, is_admin=is_admin)
            if ahead.write_off_value is not None:
                seen(Decimal(ahead.write_off_value), ahead.awaiting_approval)
            attach_photos(uow_factory, policies, instance_path, unit_id=unit_id, files=photos,
                          actor=actor)
        return grade_unit(uow_factory, policies, unit_id=unit_id, grade=grade,
                          defects=defects, note=note or None, actor=actor, is_admin=is_admin,
                          before_write_off=seen)

    # The unit alone is the form's subject: a form sent again (another grade chosen) after its
    # first request died may take its place.
    body, replayed = once(uow_factory, actor=actor, form=STATION_FORM, submission=submission,
                          subject=unit_id, work=work, answer=dataclasses.asdict)
    return BenchResult(GradingResult(**body), replayed=replayed)


def confirmation_check(confirmed: str | None) -> Callable[[Decimal, bool], None]:
    """Passes a write-off only of the value the grader confirmed; a changed cost asks again."""
    try:
        agreed = Decimal((confirmed or "").strip())
    except InvalidOperation:
        agreed = None

    def check(value: Decimal, awaiting_approval: bool) -> None:
        if agreed is None or not agreed.is_finite() or agreed != value:
            raise WriteOffUnconfirmed(value, awaiting_approval)

    return check


def bench_result(uow_factory: UowFactory, *, submission: str, actor: str) -> GradingResult:
    """The result a submitted bench form produced (for the page after the redirect)."""
    return GradingResult(**stored_answer(uow_factory, actor=actor, form=STATION_FORM,
                                         submission=submission))


def _ensure_gradable(uow_factory: UowFactory, unit_id: str) -> None:
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id)
    if unit is None:
        raise NotFound(f"No unit {unit_id}.", errors=[FieldError("unit_id", "unknown")])
    unit.ensure_gradable()
