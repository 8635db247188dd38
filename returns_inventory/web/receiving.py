"""The receiving dock: scan a parcel's RMA, count it against the return, receive, print labels.

A parcel without an RMA goes through the blind-receipt form. Both call the same services as
the API (receive_units, receive_blind) inside one form-once submission each.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Response, redirect, render_template, request, url_for

from ..domain.access import Role
from ..domain.errors import DomainError, NotFound
from ..extensions import policies, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.problems import status_of
from ..services.form_once import once, stored_answer
from ..services.labels import labels_for_units, render_labels
from ..services.parcels import (
    Stranger,
    as_answer,
    read_counts,
    read_strangers,
    receive_parcel,
    receiving_locations,
    surprises,
)
from ..services.receiving import receive_blind
from ..services.returns import get_return
from .forms import whole_number
from .pages import page_blueprint

bp = page_blueprint("receiving", __name__, url_prefix="/station")

RECEIVE_FORM, BLIND_FORM = "station-receive", "station-blind"


@bp.get("/receive")
@requires_role(Role.GRADER)
def receive():
    """The RMA scan field; a scanned RMA shows its lines to count."""
    rma = (request.args.get("rma") or "").strip().upper()
    if not rma:
        return render_template("station/receive.html")
    try:
        found = get_return(uow_factory(), rma)
    except NotFound:
        return render_template(
            "station/receive.html", rma=rma, status=404,
            error=f"No return matches “{rma}”. Check the label on the parcel, or receive it "
                  "without an RMA."), 404
    return _count_page(found)


@bp.post("/receive/<rma>")
@requires_role(Role.GRADER)
def receive_post(rma: str):
    """Receive the counted parcel; differences from the return are confirmed first."""
    submission = request.form.get("submission", "")
    if _answered(RECEIVE_FORM, submission):
        # Sent again after it was received: the parcel has changed the return since, so
        # counting it again would see surprises. The first answer is the answer.
        return redirect(url_for("receiving.received", submission=submission), code=303)
    found = get_return(uow_factory(), rma)
    try:
        counts = read_counts(found.lines, request.form)
        strangers = read_strangers(uow_factory(), request.form.get("other_items"))
        said = surprises(found.lines, counts, strangers, rma)
        if said and request.form.get("confirmed") != _digest(said):
            # Not an error: the grader reads what will happen and confirms, or recounts.
            return _count_page(found, surprises=said)
        # The answer is stored with the form's token; the page after the redirect shows it.
        once(
            uow_factory(), actor=current_actor(), form=RECEIVE_FORM,
            submission=submission, subject=rma,
            work=lambda: receive_parcel(
                uow_factory(), rma=rma, location=request.form.get("location", ""),
                counts=counts, strangers=strangers, actor=current_actor(), policies=policies(),
                note=request.form.get("note", "").strip() or None),
            answer=as_answer)
    except DomainError as exc:
        return _count_page(found, error=exc, status=_status(exc))
    return redirect(url_for("receiving.received", submission=submission), code=303)


@bp.get("/received/<submission>")
@requires_role(Role.GRADER)
def received(submission: str):
    """The units just received, with their labels to print at once."""
    answer = _answer(submission)
    units = answer["units"]
    return render_template("station/received.html", units=units,
                           flagged=[u for u in units if u["flagged_for_review"]],
                           unit_ids=[u["unit_id"] for u in units])


@bp.get("/receive/blind")
@requires_role(Role.GRADER)
def blind():
    """A parcel with no RMA: scan an item's GTIN, or type its SKU and size."""
    return _blind_page()


@bp.post("/receive/blind")
@requires_role(Role.GRADER)
def blind_post():
    """Receive the units of a parcel without an RMA, flagged for review."""
    form = request.form
    try:
        item = _blind_item(form)
        quantity = whole_number(form.get("quantity"), 0)
        once(
            uow_factory(), actor=current_actor(), form=BLIND_FORM,
            submission=form.get("submission", ""), subject=f"{item.sku}/{item.size}",
            work=lambda: receive_blind(
                uow_factory(), sku=item.sku, size=item.size, location=form.get("location", ""),
                quantity=quantity, actor=current_actor(),
                note=form.get("note", "").strip() or None),
            answer=as_answer)
    except DomainError as exc:
        return _blind_page(error=exc, status=_status(exc))
    return redirect(url_for("receiving.received", submission=form["submission"]), code=303)


@bp.get("/labels.pdf")
@requires_role(Role.GRADER)
def labels():
    """Labels of the listed units (`unit=U1&unit=U2`), as a 4x6 label roll or an A4 sheet."""
    found = labels_for_units(uow_factory(), request.args.getlist("unit")[:500],
                             timezone=policies().returns.timezone)
    pdf = render_labels(found, request.args.get("layout", "label"))
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": 'inline; filename="labels.pdf"'})


def _answered(form: str, submission: str) -> bool:
    try:
        stored_answer(uow_factory(), actor=current_actor(), form=form, submission=submission)
    except NotFound:
        return False
    return True


def _answer(submission: str) -> dict:
    for form in (RECEIVE_FORM, BLIND_FORM):
        try:
            return stored_answer(uow_factory(), actor=current_actor(), form=form,
                                 submission=submission)
        except NotFound:
            continue
    raise NotFound("There is no receipt for this form. Receive the parcel again.")


def _blind_item(form) -> Stranger:
    gtin = (form.get("gtin") or "").strip()
    typed = f"{(form.get('sku') or '').strip()} {(form.get('size') or '').strip()}".strip()
    [item] = read_strangers(uow_factory(), gtin or typed or "?")
    return item


def _count_page(found, *, surprises: list[str] | None = None, error: DomainError | None = None,
                status: int = 200):
    return render_template(
        "station/receive.html", rma=found.rma, found=found, surprises=surprises,
        confirmed=_digest(surprises) if surprises else "",
        reasons={code: r.label for code, r in policies().returns.reasons.items()},
        error=_in_words(error),
        fields_at_fault={e.field for e in (error.errors if error else [])},
        form=request.form, locations=_locations(), submission=_submission(),
    ), status


def _blind_page(*, error: DomainError | None = None, status: int = 200):
    return render_template(
        "station/blind.html", error=_in_words(error),
        fields_at_fault={e.field for e in (error.errors if error else [])},
        form=request.form, locations=_locations(), submission=_submission(),
    ), status


def _digest(said: list[str]) -> str:
    """What the grader confirmed: a recount that changes the surprises asks again."""
    return hashlib.sha256("\n".join(said).encode()).hexdigest()[:16]


def _in_words(error: DomainError | None) -> str | None:
    if error is None:
        return None
    reasons = [e.reason for e in error.errors if e.reason not in error.detail]
    return "; ".join([error.detail[:1].upper() + error.detail[1:], *reasons]) + "."


def _submission() -> str:
    # Kept across a re-rendered form (a confirm step, an error): it is still one parcel.
    return request.form.get("submission") or secrets.token_urlsafe(16)


def _locations() -> list[str]:
    return receiving_locations(uow_factory())


def _status(exc: DomainError) -> int:
    return status_of(exc)
