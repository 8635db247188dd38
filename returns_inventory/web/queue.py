"""The grading queue, a grader's undo of their last grade, and repair outcomes at the bench."""

from __future__ import annotations

import secrets
from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import flash, g, redirect, render_template, request, url_for

from ..domain.access import Role
from ..extensions import policies, uow_factory
from ..http.auth import current_actor, requires_role
from ..services.bench_help import item_picture as bench_picture
from ..services.form_once import once
from ..services.grading import record_repair_outcome
from ..services.queue import grading_queue, state_counts
from ..services.review import mark_reviewed
from ..services.undo import undo_last_grade, undoable_until
from .pages import page_blueprint

bp = page_blueprint("queue", __name__, url_prefix="/station")


@bp.get("/queue")
@requires_role(Role.GRADER)
def queue():
    """Units waiting for grading, oldest first, by location and reason; reviews; repairs."""
    location, reason = request.args.get("location", ""), request.args.get("reason", "")
    work = grading_queue(uow_factory(), location=location, reason=reason)
    return render_template(
        "station/queue.html", work=work, location=location, reason=reason,
        reasons={code: r.label for code, r in policies().returns.reasons.items()},
        submission=secrets.token_urlsafe(16))


@bp.post("/units/<unit_id>/undo")
@requires_role(Role.GRADER)
def undo(unit_id: str):
    """Undo my last grade within the window: compensating movements, never an edit."""
    answer, again = once(
        uow_factory(), actor=current_actor(), form="station-undo",
        submission=request.form.get("submission", ""), subject=unit_id,
        work=lambda: undo_last_grade(uow_factory(), policies(), unit_id=unit_id,
                                     actor=current_actor()),
        answer=asdict)
    flash(("This undo had already been sent; the grade was undone once. " if again else "")
          + f"Grade {answer['undone_grade']} of unit {unit_id} undone: the unit is back in "
          "quarantine, waiting for grading. Grade it again now.")
    return redirect(url_for("station.unit", unit_id=unit_id), code=303)


@bp.post("/units/<unit_id>/review")
@requires_role(Role.ADMIN)
def review(unit_id: str):
    """A supervisor reviewed a blind receipt: it leaves the review list."""
    once(uow_factory(), actor=current_actor(), form="station-review",
         submission=request.form.get("submission", ""), subject=unit_id,
         work=lambda: mark_reviewed(uow_factory(), unit_id=unit_id, actor=current_actor(),
                                    note=request.form.get("note", "").strip() or None),
         answer=lambda answer: answer)
    flash(f"Unit {unit_id} reviewed: it is off the review list.")
    return redirect(url_for("queue.queue", **request.args), code=303)


@bp.post("/units/<unit_id>/repair-outcome")
@requires_role(Role.GRADER)
def repair_outcome(unit_id: str):
    """A repaired unit back to stock as A or B, or scrapped."""
    result, _ = once(
        uow_factory(), actor=current_actor(), form="station-repair",
        submission=request.form.get("submission", ""), subject=unit_id,
        work=lambda: record_repair_outcome(
            uow_factory(), policies(), unit_id=unit_id, outcome=request.form.get("outcome", ""),
            note=request.form.get("note", "").strip() or None, actor=current_actor(),
            is_admin=g.role is Role.ADMIN),
        answer=asdict)
    flash(f"Unit {unit_id}: {result['where_to_put']}.")
    if request.form.get("back") == "unit":  # recorded from the unit's own page
        return redirect(url_for("station.unit", unit_id=unit_id), code=303)
    return redirect(url_for("queue.queue"), code=303)


@bp.app_template_global()
def undo_until(unit_id: str) -> datetime | None:
    """When the person at the bench can no longer undo their grade of this unit (or None)."""
    return undoable_until(uow_factory(), policies(), unit_id=unit_id, actor=current_actor())


@bp.app_template_global()
def queue_counts() -> dict[str, int]:
    return state_counts(uow_factory())


@bp.app_template_global()
def form_token() -> str:
    """A one-time token for a small form drawn inside another page (undo, repair)."""
    return secrets.token_urlsafe(16)


@bp.app_template_global()
def item_picture(unit_id: str) -> str | None:
    """The item's picture for the bench, when config/grading.toml lets it be shown."""
    return bench_picture(uow_factory(), policies(), unit_id)


@bp.app_template_global()
def defect_help() -> dict[str, str]:
    return policies().grading.defect_help


@bp.app_template_global()
def defect_labels() -> dict[str, str]:
    return policies().grading.defects


@bp.app_template_filter("clock")
def clock(moment: datetime) -> str:
    """A time of day on the warehouse's clock ([calendar] timezone)."""
    return moment.astimezone(ZoneInfo(policies().returns.timezone)).strftime("%H:%M:%S")
