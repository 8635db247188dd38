"""Vendor claims from the quality page: gather, send, record the credit or the refusal.

Each form calls the same service as its API endpoint (`/api/v1/claims/...`), once per
submitted form, so a double click or a resent POST never sends or credits a claim twice.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import flash, redirect, request, url_for

from ..domain.access import Role
from ..domain.errors import DomainError, FieldError, ValidationFailed
from ..extensions import policies, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.problems import status_of
from ..services.claims import credit_claim, gather_claims, reject_claim, send_claim
from ..services.form_once import once
from .pages import error_page, page_blueprint
from .quality_page import ClaimForm, render_quality_page

bp = page_blueprint("planner_claims", __name__, url_prefix="/planner/quality/claims")


@bp.errorhandler(DomainError)
def _refused(exc: DomainError):
    # The forms sit on the quality page: the way back is there, with its claims.
    return error_page(status_of(exc), exc.title, exc.detail,
                      back=(url_for("planner_quality.quality_page"), "Back to quality and claims"))


@bp.post("/gather")
@requires_role(Role.PLANNER)
def gather():
    """Every unit returned to its supplier and not yet claimed goes into that supplier's draft,
    except those whose claim window has ended (said, with how many)."""
    done, _ = _once("gather", lambda: gather_claims(
        uow_factory(), policies().grading, actor=current_actor(), today=_today()),
        answer=lambda found: {"drafts": len(found["drafts"]),
                              "window_ended": len(found["window_ended"])})
    drafts, ended = done["drafts"], done.get("window_ended", 0)
    words = (f"{drafts} draft claim{'' if drafts == 1 else 's'} gained units, ready to send."
             if drafts else "No unit returned to a supplier waits to be claimed.")
    if ended:
        words += (f" {ended} unit{' was' if ended == 1 else 's were'} left out: "
                  f"{'its' if ended == 1 else 'their'} supplier's claim window has ended, so "
                  "the supplier would refuse "
                  f"{'it' if ended == 1 else 'them'} (listed under Claim windows ended).")
    flash(words)
    return _back()


@bp.post("/<int:claim_id>/send")
@requires_role(Role.PLANNER)
def send(claim_id: int):
    _once(f"send/{claim_id}", lambda: send_claim(
        uow_factory(), claim_id=claim_id, actor=current_actor(), today=_today()))
    flash(f"Claim {claim_id} sent: it waits for the supplier's credit.")
    return _back()


@bp.post("/<int:claim_id>/credit")
@requires_role(Role.PLANNER)
def credit(claim_id: int):
    typed = {"amount": request.form.get("amount", ""),
             "reference": request.form.get("reference", "")}
    try:
        amount = _amount(typed["amount"])
        claim, _ = _once(f"credit/{claim_id}", lambda: credit_claim(
            uow_factory(), claim_id=claim_id, amount=amount,
            reference=typed["reference"].strip() or None, actor=current_actor(),
            today=_today()),
            answer=lambda c: {"credited": c["credited_value"], "value": c["value"]})
    except ValidationFailed as exc:
        return _form_again(claim_id, "credit", typed, exc, default_field="amount")
    flash(f"Claim {claim_id} credited {claim['credited']} of {claim['value']}.")
    return _back()


@bp.post("/<int:claim_id>/reject")
@requires_role(Role.PLANNER)
def reject(claim_id: int):
    typed = {"reason": request.form.get("reason", "")}
    try:
        _once(f"reject/{claim_id}", lambda: reject_claim(
            uow_factory(), claim_id=claim_id, reason=typed["reason"].strip(),
            actor=current_actor(), today=_today()))
    except ValidationFailed as exc:
        return _form_again(claim_id, "reject", typed, exc, default_field="reason")
    flash(f"Claim {claim_id} recorded as refused by the supplier.")
    return _back()


def _form_again(claim_id: int, action: str, typed: dict[str, str], exc: ValidationFailed, *,
                default_field: str):
    """The quality page again, this claim's form as typed with the error beside its field
    (an error page would lose what was typed, and the way back to the claim)."""
    at_fault = next((e.field for e in exc.errors if e.field in typed), default_field)
    words = exc.detail[:1].upper() + exc.detail[1:]
    return render_quality_page(ClaimForm(claim_id, action, typed, at_fault, words))


def _amount(text: str | None) -> Decimal:
    try:
        amount = Decimal((text or "").strip())
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise ValidationFailed("the credited amount must be a sum of money, e.g. 41.50",
                               errors=[FieldError("amount", "a sum of money, e.g. 41.50")])
    return amount


def _once(subject: str, work, answer=lambda _claim: {}):
    return once(uow_factory(), actor=current_actor(), form="claims",
                submission=request.form.get("submission", ""), subject=subject, work=work,
                answer=answer)


def _today():
    return policies().returns.today()


def _back():
    return redirect(url_for("planner_quality.quality_page", **request.args), code=303)
