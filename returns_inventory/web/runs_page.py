"""Forecast runs for planners: the last runs, one run's figures and failures, and "run now"."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import flash, redirect, render_template, request, url_for

from ..api.auth import current_actor, requires_role
from ..domain.access import Role
from ..domain.errors import DomainError
from ..extensions import settings, uow_factory
from ..services.forecast_runs import RunRequest, get_run, launch_run, list_runs, planners_today
from .forms import page_number
from .pages import page_blueprint

bp = page_blueprint("planner_runs", __name__, url_prefix="/planner/runs")

PAGE_SIZE = 25


@bp.get("")
@requires_role(Role.PLANNER)
def runs():
    """The latest runs first, with how long they took and how many series fell back or failed."""
    page = page_number(request.args.get("page"))
    shown, total = list_runs(uow_factory(), offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return render_template(
        "planner/runs.html", runs=shown, page=page, pages=max(1, -(-total // PAGE_SIZE)),
        today=planners_today(settings()), running=any(r["status"] == "running" for r in shown),
    )


@bp.get("/<int:run_id>")
@requires_role(Role.PLANNER)
def run(run_id: int):
    """One run: its figures by phase and the series that failed or fell back."""
    found = get_run(uow_factory(), run_id)
    figures = dict(found.get("figures") or {})
    return render_template("planner/run.html", run=found, phases=figures.pop("phases", {}),
                           figures=figures)


@bp.post("")
@requires_role(Role.PLANNER)
def run_now():
    """Start a run as POST /api/v1/forecast-runs does: recorded now, forecast in the background."""
    try:
        typed = request.form.get("as_of")
        as_of = date.fromisoformat(typed) if typed else planners_today(settings())
    except ValueError:
        flash("The as-of date was not understood; use the date picker or YYYY-MM-DD.")
        return redirect(url_for("planner_runs.runs"), code=303)
    run_request = RunRequest(as_of=as_of, actor=current_actor(), trigger="web")
    try:
        run_id = launch_run(uow_factory(), settings(), run_request)["id"]
    except DomainError as exc:
        flash(f"The run was not started: {exc.detail}")
        return redirect(url_for("planner_runs.runs"), code=303)
    flash(f"Forecast run {run_id} started for {as_of}. This page refreshes until it finishes.")
    return redirect(url_for("planner_runs.runs"), code=303)


@bp.app_template_filter("took")
def duration_words(run: dict) -> str:
    """How long a run took, or has been running, in the units a person reads."""
    started, finished = run.get("started_at"), run.get("finished_at")
    if started is None:
        return ""
    end = finished or datetime.now(UTC)
    if started.tzinfo is None:
        end = end.replace(tzinfo=None)
    seconds = max(0.0, (end - started).total_seconds())
    if seconds < 60:
        text = f"{seconds:.1f} s"
    elif seconds < 3600:
        text = f"{int(seconds // 60)} min {int(seconds % 60)} s"
    else:
        text = f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    return text if finished else f"running for {text}"
