"""The grading station: scan a unit or RMA, choose its grade, confirm, see where the unit goes."""

from __future__ import annotations

import dataclasses
import secrets

from flask import g, jsonify, redirect, render_template, request, url_for

from ..domain.access import Role
from ..domain.errors import DomainError, NotFound
from ..domain.grading import Disposition, Grade, UnitStatus
from ..extensions import policies, settings, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.body import sized_body
from ..http.problems import status_of
from ..services.form_once import StillWorking
from ..services.inspection import send_back_label
from ..services.photos import unit_view
from ..services.station import (
    WriteOffUnconfirmed,
    bench_result,
    find_scanned,
    foresee,
    grade_at_bench,
)
from .pages import page_blueprint

bp = page_blueprint("station", __name__, url_prefix="/station")

# Photos are bigger than the API's small-body limit (config/grading.toml [photos]).
bench_upload = sized_body(lambda: policies().grading.photo_upload_bytes)


@bp.get("")
@requires_role(Role.GRADER)
def scan():
    """The scan field; a scanned RMA lists its units still waiting for grading."""
    code = request.args.get("code")
    if code is None:
        return render_template("station/scan.html")
    try:
        scanned = find_scanned(uow_factory(), code)
    except NotFound as exc:
        return render_template("station/scan.html", code=code, error=exc.detail), 404
    if scanned.unit_id:
        return redirect(url_for("station.unit", unit_id=scanned.unit_id))
    return render_template("station/scan.html", code=code, scanned=scanned)


@bp.get("/units/<unit_id>")
@requires_role(Role.GRADER)
def unit(unit_id: str):
    """The unit on the bench, and the grade form while it waits for grading."""
    return _unit_page(unit_id)


@bp.get("/units/<unit_id>/outcome")
@requires_role(Role.GRADER)
def outcome(unit_id: str):
    """What the chosen grade and defects would do: the page shows a write-off's value first."""
    ahead = foresee(uow_factory(), policies(), unit_id=unit_id,
                    grade=request.args.get("grade", ""), defects=request.args.getlist("defects"),
                    is_admin=g.role is Role.ADMIN)
    return jsonify(dataclasses.asdict(ahead))


@bp.post("/units/<unit_id>/grade")
@requires_role(Role.GRADER)
@bench_upload
def grade(unit_id: str):
    """Grade from the bench form; the same form sent twice grades once and shows that result."""
    submission = request.form.get("submission", "")
    defects = request.form.getlist("defects")
    photos = [(f.filename, f.mimetype, f.read())
              for f in request.files.getlist("photos") if f.filename]
    try:
        if not submission:
            raise NotFound("This form is missing its submission token. Scan the unit again.")
        graded_here = grade_at_bench(
            uow_factory(), policies(), settings().instance_path, submission=submission,
            unit_id=unit_id, grade=request.form.get("grade", ""), defects=defects,
            note=request.form.get("note", "").strip(), photos=photos,
            actor=current_actor(), is_admin=g.role is Role.ADMIN,
            confirmed_write_off=request.form.get("confirm_write_off"),
        )
    except WriteOffUnconfirmed as ask:
        # Not an error: the grader sees the value and confirms, or chooses another grade.
        return _unit_page(unit_id, chosen=_chosen(defects), confirm=ask, photos_dropped=photos)
    except StillWorking:
        return _unit_page(unit_id, status=409, error=(
            "This form is still being graded from another click. Wait a moment, then scan the "
            "unit again to see its result."))
    except DomainError as exc:
        return _unit_page(unit_id, status=status_of(exc), error=exc.detail, chosen=_chosen(defects))
    again = {"again": 1} if graded_here.replayed else {}
    return redirect(url_for("station.graded", submission=submission, **again), code=303)


@bp.get("/graded/<submission>")
@requires_role(Role.GRADER)
def graded(submission: str):
    """What the grade decided and where to put the unit, in large type."""
    result = bench_result(uow_factory(), submission=submission, actor=current_actor())
    refused = result.outcome is not None and result.outcome["outcome"] == "refuse"
    return render_template("station/result.html", result=result,
                           unit=unit_view(uow_factory(), result.unit_id),
                           send_back=send_back_label(uow_factory(), result.unit_id)
                           if refused else None,
                           labels=_labels())


def _chosen(defects: list[str]) -> dict:
    return {"grade": request.form.get("grade"), "defects": defects,
            "note": request.form.get("note", "")}


def _unit_page(unit_id: str, *, status: int = 200, error: str | None = None,
               chosen: dict | None = None, confirm: WriteOffUnconfirmed | None = None,
               photos_dropped: list | None = None):
    try:
        shown = unit_view(uow_factory(), unit_id)
    except NotFound:
        return render_template(
            "station/scan.html", code=unit_id,
            error=f"No unit label matches “{unit_id}”. Check the label and scan again.",
        ), 404
    return render_template(
        "station/unit.html", unit=shown, error=error, labels=_labels(),
        chosen=chosen or {"grade": None, "defects": [], "note": ""},
        confirm=confirm, photos_dropped=bool(photos_dropped), where_now=_where_now(shown),
        # A new token per rendering: each form that reaches the server is graded at most once.
        submission=secrets.token_urlsafe(16),
        max_photos=policies().grading.photo_max_per_request,
        photo_types=",".join(policies().grading.photo_types),
    ), status


def _where_now(unit: dict) -> str:
    """Where a graded unit belongs now: a write-off still waiting for approval is kept."""
    if not unit["disposition"]:
        return ""
    waiting = unit["status"] == UnitStatus.PENDING_WRITE_OFF.value
    return policies().grading.where_to_put_after(Disposition(unit["disposition"]),
                                                 awaiting_approval=waiting)


def _labels() -> dict:
    grading = policies().grading
    grades = settings().policies.get("grading", {}).get("grades", {})
    return {
        "grades": {g.value: grades.get(g.value, {}).get("label", g.value) for g in Grade},
        "defects": grading.defects,
        "reasons": {code: r.label for code, r in policies().returns.reasons.items()},
    }
