"""The grading bench: find what was scanned, grade it once per submitted form, show the result."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..domain.errors import FieldError, NotFound, present
from ..domain.grading import Disposition, UnitStatus
from ..persistence.uow import Fence, UnitOfWork, UowFactory, fenced
from .grading import grade_unit
from .inspection import line_context, preview, refused_disposition
from .photos import attach_photos
from .policies import Policies
from .unit_outcomes import GradingResult

SUBMISSION_PATH = "/station/grade"
# How long a repeated submission waits for its twin, still grading, to finish.
TWIN_WAIT_S = 5.0
TWIN_POLL_S = 0.1
# A claim older than this belongs to a request that died; its twin may take over.
ABANDONED_AFTER_S = 60


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


class StillGrading(Exception):
    """The same form is being graded by another request right now."""


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
    """Grade a unit from the bench form; the form's one-time token makes a double submit harmless.

    The token is claimed in a transaction of its own before grading, so a second submission of
    the same form finds it and answers with the first result instead of grading again.

    A grade that writes the unit off grades only when `confirmed_write_off` is the value the
    grader was shown; otherwise WriteOffUnconfirmed, and nothing is graded. A keystroke that
    slipped through (a scanned label's D) can then never write a unit off unseen.
    """
    key = _key(submission)
    # The unit alone: a form sent again after its first request died may take its place.
    fingerprint = hashlib.sha256(unit_id.encode()).hexdigest()
    fence = Fence(actor, key, uuid.uuid4().hex)
    stored = _claim(uow_factory, fence, fingerprint)
    if stored is not None:
        return BenchResult(_wait_for_twin(uow_factory, actor, key, stored), replayed=True)
    try:
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
        with fenced(fence):  # should a resent form have taken over, this grade rolls back
            result = grade_unit(uow_factory, policies, unit_id=unit_id, grade=grade,
                                defects=defects, note=note or None, actor=actor, is_admin=is_admin,
                                before_write_off=seen)
    except BaseException:
        # Nothing was graded: the same form may be corrected and sent again.
        with uow_factory() as uow:
            uow.idempotency.release(**fence._asdict())
            uow.commit()
        raise
    with uow_factory() as uow:
        uow.idempotency.complete(**fence._asdict(), status_code=200,
                                 body=json.dumps(dataclasses.asdict(result)),
                                 content_type="application/json")
        uow.commit()
    return BenchResult(result, replayed=False)


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
    with uow_factory() as uow:
        stored = uow.idempotency.stored(actor=actor, key=_key(submission))
    if stored is None or stored.response_body is None:
        raise NotFound("There is no grading result for this form. Scan the unit again.")
    return GradingResult(**json.loads(stored.response_body))


def _key(submission: str) -> str:
    return "station:" + (submission or "")[:200]


def _claim(uow_factory: UowFactory, fence: Fence, fingerprint):
    with uow_factory() as uow:
        stored = uow.idempotency.claim(actor=fence.actor, key=fence.key, method="POST",
                                       path=SUBMISSION_PATH, request_hash=fingerprint,
                                       token=fence.token, lock_seconds=ABANDONED_AFTER_S)
        uow.commit()
    return stored


def _wait_for_twin(uow_factory: UowFactory, actor, key, stored) -> GradingResult:
    deadline = time.monotonic() + TWIN_WAIT_S
    while not stored.completed:
        if time.monotonic() > deadline:
            raise StillGrading()
        time.sleep(TWIN_POLL_S)
        with uow_factory() as uow:
            stored = uow.idempotency.stored(actor=actor, key=key)
        if stored is None:
            # The first submission failed and let go of the token: nothing was graded.
            raise StillGrading()
    return GradingResult(**json.loads(stored.response_body))


def _ensure_gradable(uow_factory: UowFactory, unit_id: str) -> None:
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id)
    if unit is None:
        raise NotFound(f"No unit {unit_id}.", errors=[FieldError("unit_id", "unknown")])
    unit.ensure_gradable()
