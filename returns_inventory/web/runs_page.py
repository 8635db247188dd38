"""Forecast runs for planners: the last runs, one run's figures and failures, "run now", and
discarding a run (admins)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import flash, g, redirect, render_template, request, url_for

from ..domain.access import Role
from ..domain.errors import DomainError
from ..domain.replenishment import OPEN_RUNS as OPEN
from ..extensions import settings, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.schemas import page_count, page_offset
from ..services.forecast_runs import RunRequest, get_run, list_runs, planners_today
from ..services.run_requests import discard_run, request_run
from .forms import page_number
from .pages import page_blueprint
from .trend_charts import run_durations, run_durations_chart

bp = page_blueprint("planner_runs", __name__, url_prefix="/planner/runs")

PAGE_SIZE = 25
CHART_RUNS = 100  # the durations chart: enough nights to see a slow drift
# Runs the page keeps refreshing for: waiting for the scheduler, or under way.


@bp.get("")
@requires_role(Role.PLANNER)
def runs():
    """The latest runs first, with how long they took and how many series fell back or failed."""
    page = page_number(request.args.get("page"))
    shown, total = list_runs(uow_factory(), offset=page_offset(page, PAGE_SIZE), limit=PAGE_SIZE)
    recent, _ = list_runs(uow_factory(), offset=0, limit=CHART_RUNS)
    return render_template(
        "planner/runs.html", runs=shown, page=page, pages=page_count(total, PAGE_SIZE),
        durations=run_durations_chart(recent), chart_runs=CHART_RUNS,
        duration_rows=run_durations(recent),
        today=planners_today(settings()),
        running=any(r["status"] in OPEN and not r["discarded_at"] for r in shown),
        may_discard=getattr(g.get("person"), "role", None) is Role.ADMIN,
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
    """Ask for a run as POST /api/v1/forecast-runs does: the scheduler starts it in seconds."""
    try:
        typed = request.form.get("as_of")
        as_of = date.fromisoformat(typed) if typed else planners_today(settings())
    except ValueError:
        flash("The as-of date was not understood; use the date picker or YYYY-MM-DD.")
        return redirect(url_for("planner_runs.runs"), code=303)
    run_request = RunRequest(as_of=as_of, actor=current_actor(), trigger="web")
    try:
        run_id = request_run(uow_factory(), settings(), run_request)["id"]
    except DomainError as exc:
        flash(f"The run was not started: {exc.detail}")
        return redirect(url_for("planner_runs.runs"), code=303)
    flash(f"Forecast run {run_id} requested for {as_of}; the scheduler starts it within "
          "seconds. This page refreshes until it finishes.")
    return redirect(url_for("planner_runs.runs"), code=303)


@bp.post("/<int:run_id>/discard")
@requires_role(Role.ADMIN)
def discard(run_id: int):
    """Discard a run as POST /api/v1/forecast-runs/{id}/discard does."""
    try:
        discard_run(uow_factory(), run_id, current_actor())
    except DomainError as exc:
        flash(f"Run {run_id} was not discarded: {exc.detail}")
        return redirect(url_for("planner_runs.runs"), code=303)
    flash(f"Run {run_id} discarded: its undecided suggestions left the lists and exports; "
          "decided ones are kept.")
    return redirect(url_for("planner_runs.runs"), code=303)


@bp.app_template_filter("took")
def duration_words(run: dict) -> str:
    """How long a run took, has been running, or has waited for the scheduler, in the units a
    person reads."""
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
    if finished:
        return text
    return f"waiting for {text}" if run.get("status") == "requested" else f"running for {text}"
