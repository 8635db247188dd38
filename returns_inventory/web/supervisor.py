"""The supervisor's pages: approve or send back write-offs, re-grade, act on exchanges.

Each form calls the same service as its API endpoint, once per submitted form, as an admin.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict

from flask import flash, redirect, render_template, request, url_for

from ..domain.access import Role
from ..domain.errors import DomainError, NotFound
from ..extensions import policies, settings, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.problems import status_of
from ..services.exchanges import refund_instead, reserve_again, ship_exchange
from ..services.form_once import once
from ..services.grading import regrade_unit
from ..services.photos import unit_view
from ..services.supervision import supervisor_work
from ..services.write_offs import decide_write_off
from .pages import page_blueprint

bp = page_blueprint("supervisor", __name__, url_prefix="/supervisor")

EXCHANGE_ACTIONS = {"reserve": "reserved again", "refund": "refunded instead", "ship": "shipped"}


@bp.get("")
@requires_role(Role.ADMIN)
def overview():
    """Write-offs waiting for approval, with value and photos; exchanges to act on."""
    return _overview_page()


def _overview_page(*, error: str | None = None, exchange_error: str | None = None,
                   status: int = 200):
    # The scan field comes back empty (the error names what was scanned): a wedge scanner
    # types into it without selecting, so a kept value would prefix the next scan.
    return render_template("supervisor/overview.html", work=supervisor_work(uow_factory()),
                           error=error, exchange_error=exchange_error), status


def _exchange_refusal(exchange_id: int, exc: DomainError) -> str:
    """Why an exchange action was refused, with the sizes in stock the customer could take."""
    words = f"Exchange {exchange_id}: {exc.detail}."
    others = [f"size {a['size']} ({a['available']} at {a['location']})"
              for a in exc.extra.get("alternatives", [])]
    return words + (f" In stock: {', '.join(others)}." if others else "")


@bp.post("/write-offs/<int:write_off_id>/decision")
@requires_role(Role.ADMIN)
def write_off_decision(write_off_id: int):
    """Approve: the write-off posts. Send back: the unit waits for grading again."""
    approve = request.form.get("decision") == "approve"
    result, _ = _once(f"write-off/{write_off_id}", lambda: decide_write_off(
        uow_factory(), write_off_id=write_off_id, approve=approve, actor=current_actor()))
    flash(f"Write-off of unit {result['unit_id']} "
          + ("approved: it is written off. Put it in the write-off bin." if approve else
             "sent back: the unit waits for grading again."))
    return redirect(url_for("supervisor.overview"), code=303)


@bp.post("/exchanges/<int:exchange_id>/<action>")
@requires_role(Role.ADMIN)
def exchange_action(exchange_id: int, action: str):
    """Reserve the replacement again, refund instead, or mark it shipped."""
    services = {
        "reserve": lambda: reserve_again(uow_factory(), policies(), exchange_id=exchange_id,
                                         actor=current_actor()),
        "refund": lambda: refund_instead(uow_factory(), policies(), exchange_id=exchange_id,
                                         actor=current_actor()),
        "ship": lambda: ship_exchange(uow_factory(), exchange_id=exchange_id,
                                      actor=current_actor()),
    }
    if action not in services:
        return redirect(url_for("supervisor.overview"), code=303)
    try:
        _once(f"exchange/{exchange_id}/{action}", services[action], answer=lambda _: {})
    except DomainError as exc:
        # Said on the page the supervisor acts from, beside the other choices (refund instead),
        # not on a dead end.
        return _overview_page(exchange_error=_exchange_refusal(exchange_id, exc),
                              status=status_of(exc))
    flash(f"Exchange {exchange_id} {EXCHANGE_ACTIONS[action]}.")
    return redirect(url_for("supervisor.overview"), code=303)


@bp.get("/regrade")
@requires_role(Role.ADMIN)
def regrade():
    """The re-grade form of a scanned unit: a new grade, defects and the reason (required)."""
    unit_id = (request.args.get("unit") or "").strip().upper()
    try:
        return _regrade_page(unit_id)
    except NotFound:
        # A mistyped or misread label: say so where the next scan goes, not on a dead end.
        words = (f"No unit label matches “{unit_id}”. Check the label and scan again."
                 if unit_id else "Scan or type a unit label first.")
        return _overview_page(error=words, status=404)


@bp.post("/units/<unit_id>/regrade")
@requires_role(Role.ADMIN)
def regrade_post(unit_id: str):
    form = request.form
    try:
        result, _ = _once(f"regrade/{unit_id}", lambda: regrade_unit(
            uow_factory(), policies(), unit_id=unit_id, grade=form.get("grade", ""),
            reason=form.get("reason", ""), defects=form.getlist("defects"),
            note=form.get("note", "").strip() or None, actor=current_actor()))
    except DomainError as exc:
        return _regrade_page(unit_id, error=exc, status=status_of(exc))
    flash(f"Unit {unit_id} re-graded {result['grade']}: {result['where_to_put']}.")
    return redirect(url_for("station.unit", unit_id=unit_id), code=303)


def _once(subject: str, work, answer=asdict):
    return once(uow_factory(), actor=current_actor(), form="supervisor",
                submission=request.form.get("submission", ""), subject=subject, work=work,
                answer=answer)


def _regrade_page(unit_id: str, *, error: DomainError | None = None, status: int = 200):
    return render_template(
        "supervisor/regrade.html", unit=unit_view(uow_factory(), unit_id),
        defects=policies().grading.defects, grades=_grade_labels(),
        error=error.detail if error else None,
        fields_at_fault={e.field for e in (error.errors if error else [])},
        form=request.form, submission=request.form.get("submission") or secrets.token_urlsafe(16),
    ), status


def _grade_labels() -> dict[str, str]:
    grades = settings().policies.get("grading", {}).get("grades", {})
    return {code: grades.get(code, {}).get("label", code) for code in "ABCD"}
