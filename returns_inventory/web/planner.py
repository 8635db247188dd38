"""The planner console: the suggestions table, one suggestion with its chart, and decisions.

Views are thin: they call the same services as /api/v1/replenishment and only turn answers
into pages. Every change is a plain form POST followed by a redirect (works without JS).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ..domain.access import Role
from ..domain.errors import Conflict, DomainError, FieldError, ValidationFailed
from ..domain.quality import RULE_WORDS
from ..domain.replenishment import STATUSES
from ..extensions import policies, settings, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.problems import status_of
from ..http.schemas import page_count, page_offset
from ..services.forecast_runs import forecast_config, list_runs
from ..services.refunds import overdue_count
from ..services.suggestion_decisions import decide_in_bulk, decide_suggestion
from ..services.suggestions import get_suggestion, list_suggestions
from .forms import whole_number
from .pages import page_blueprint
from .planner_charts import project_stock, suggestion_chart
from .planner_filters import COLUMNS, PAGE_SIZE, read_table_state, selected_ids

bp = page_blueprint("planner", __name__, url_prefix="/planner")

DETAIL_PATH = re.compile(r"^/planner/suggestions/(\d+)$")
RUNS_IN_FILTER = 20


@bp.get("")
@requires_role(Role.PLANNER)
def suggestions():
    """The suggestions table: filters, sorting, pages, and a decision on every row."""
    return _table_page(request.args)


@bp.get("/suggestions/<bigid:suggestion_id>")
@requires_role(Role.PLANNER)
def suggestion(suggestion_id: int):
    """One suggestion: chart, every term in words, the model and why, decisions."""
    return _detail_page(suggestion_id)


@bp.post("/suggestions/<bigid:suggestion_id>/decision")
@requires_role(Role.PLANNER)
def decide(suggestion_id: int):
    """Approve, edit or reject one suggestion at the version the planner saw."""
    form = request.form
    action = form.get("action", "")
    try:
        result = decide_suggestion(
            uow_factory(), suggestion_id, action=action, actor=current_actor(),
            quantity=_quantity(form.get("quantity")) if action == "edit" else None,
            comment=form.get("comment", "").strip() or None,
            expected_version=whole_number(form.get("version")), policies=policies(),
        )
    except DomainError as exc:
        return _back_with_error(exc, suggestion_id)
    flash(_decided_words(result))
    return redirect(_back() + f"#s-{suggestion_id}", code=303)


@bp.post("/decisions")
@requires_role(Role.PLANNER)
def decide_many():
    """Approve or reject the ticked rows, or every waiting row the filters match."""
    action, _, scope = request.form.get("do", "").partition("-")
    try:
        if scope == "matching":
            filters = read_table_state(request.form).filters
        else:
            filters = {"ids": selected_ids(request.form)}
        counts = decide_in_bulk(uow_factory(), action=action, actor=current_actor(),
                                filters=filters,
                                comment=request.form.get("comment", "").strip() or None,
                                policies=policies())
    except DomainError as exc:
        return _back_with_error(exc)
    flash(_bulk_words(counts, scope))
    return redirect(_back(), code=303)


def _table_page(values: MultiDict, *, error: str | None = None, status: int = 200):
    try:
        state = read_table_state(values)
        listed = list_suggestions(uow_factory(), {**state.filters, "sort": state.sort},
                                  offset=page_offset(state.page, PAGE_SIZE), limit=PAGE_SIZE,
                                  policies=policies())
    except DomainError as exc:
        state, listed = read_table_state(MultiDict()), None
        error, status = exc.detail, status_of(exc)
    runs, _ = list_runs(uow_factory(), offset=0, limit=RUNS_IN_FILTER)
    total = listed["page"]["total"] if listed else 0
    return render_template(
        "planner/suggestions.html", state=state, listed=listed, error=error,
        columns=COLUMNS, statuses=STATUSES,
        runs=[r for r in runs if r["status"] == "succeeded" and not r["discarded_at"]],
        pages=page_count(total, PAGE_SIZE), total=total, back=request.full_path.rstrip("?"),
        overdue_refunds=overdue_count(uow_factory(), today=policies().returns.today()),
    ), status


def _detail_page(suggestion_id: int, *, error: str | None = None, status: int = 200):
    shown = get_suggestion(uow_factory(), suggestion_id, policies())
    projection = project_stock(shown, forecast_config(settings()).review_period_weeks)
    return render_template(
        "planner/suggestion.html", s=shown, projection=projection, error=error,
        quality_rule_words=RULE_WORDS[policies().quality_alerts.rule],
        chart=suggestion_chart(shown, projection),
        back=url_for("planner.suggestion", suggestion_id=suggestion_id),
    ), status


def _back() -> str:
    # Only the console's own pages: a crafted `back` must not send planners elsewhere.
    target = request.form.get("back", "")
    if target.startswith("/planner") and "\\" not in target and "//" not in target:
        return target
    return url_for("planner.suggestions")


def _back_with_error(exc: DomainError, suggestion_id: int | None = None):
    """Show the page the form came from again, fresh from the database, with the refusal."""
    words = _conflict_words(exc, suggestion_id) if isinstance(exc, Conflict) else exc.detail
    target = urlsplit(_back())
    found = DETAIL_PATH.match(target.path)
    if found:
        return _detail_page(int(found.group(1)), error=words, status=status_of(exc))
    return _table_page(MultiDict(parse_qsl(target.query)), error=words, status=status_of(exc))


def _conflict_words(exc: Conflict, suggestion_id: int | None) -> str:
    who, when = exc.extra.get("decided_by"), exc.extra.get("decided_at")
    if not who:
        return exc.detail  # replaced by a newer run, or an edit of an approved order
    status = exc.extra.get("suggestion_status", "decided")
    return (f"Suggestion {suggestion_id} was already {status} by {people_words(who)} at "
            f"{time_words(datetime.fromisoformat(when)) if when else 'an earlier moment'} — "
            "reload to see their decision, then decide again if needed.")


def _decided_words(result: dict) -> str:
    row, decision = result["suggestion"], result["decision"]
    what = f"{row['sku']} size {row['size']} at {row['location']}"
    if decision["action"] == "reject":
        return f"Rejected {what}."
    note = result["case_pack"]["note"] if result["case_pack"] else ""
    if decision["action"] == "edit":
        return f"Changed {what} to {note}; it waits for approval."
    return f"Approved {what}: {note}."


def _bulk_words(counts: dict, scope: str) -> str:
    done = "Approved" if counts["action"] == "approve" else "Rejected"
    which = "matching" if scope == "matching" else "ticked"
    text = f"{done} {counts['decided']} of {counts['matched']} {which} suggestions."
    if counts["skipped"]:
        text += (f" {counts['skipped']} were left alone: already decided, or nothing to "
                 "order.")
    if counts["rounded_up"]:
        text += f" {counts['rounded_up']} quantities were rounded up to whole case packs."
    return text


def _quantity(text: str | None) -> int | None:
    value = whole_number(text)
    if value is None or value < 1:
        raise ValidationFailed("Enter the new quantity as a whole number of units, at least 1.",
                               errors=[FieldError("quantity", "a whole number, at least 1")])
    return value


@bp.app_template_filter("who")
def people_words(actor: str | None) -> str:
    """`user:ann` -> `ann`; tokens and jobs keep their kind so nobody mistakes them for a person."""
    if not actor:
        return "someone"
    kind, _, name = actor.partition(":")
    return name if kind == "user" and name else actor


@bp.app_template_filter("when")
def time_words(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


@bp.app_template_filter("money")
def money_words(value) -> str:
    return "" if value is None else f"{Decimal(value):,.2f}"


@bp.app_template_filter("signed")
def signed_words(value) -> str:
    """+6 / −6 / 0: a change reads at a glance."""
    if value is None:
        return ""
    return f"+{value:g}" if value > 0 else (f"−{-value:g}" if value < 0 else "0")
