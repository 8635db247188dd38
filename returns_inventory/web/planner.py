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
from ..domain.suggestion_figures import SHARE_TERMS
from ..extensions import policies, settings, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.problems import status_of
from ..http.schemas import page_count, page_offset
from ..services.forecast_runs import forecast_config, list_runs
from ..services.preferences import chosen_columns
from ..services.refunds import overdue_count
from ..services.suggestion_alerts import FRESH_SECONDS
from ..services.suggestion_decisions import decide_suggestion
from ..services.suggestions import get_suggestion, list_suggestions, neighbours
from .forms import whole_number
from .pages import page_blueprint
from .planner_charts import chart_rows, project_stock, suggestion_chart
from .planner_columns import BY_KEY, DEFAULT, KEYS, PREFERENCE, with_figures
from .planner_filters import PAGE_SIZE, TableState, read_table_state, typed_filters

bp = page_blueprint("planner", __name__, url_prefix="/planner")

DETAIL_PATH = re.compile(r"^/planner/suggestions/(\d+)$")
RUNS_IN_FILTER = 20
ALERTS_FRESH_MINUTES = round(FRESH_SECONDS / 60)  # how late a list's quality mark may be


@bp.get("")
@requires_role(Role.PLANNER)
def suggestions():
    """The suggestions table: filters, sorting, pages, and a decision on every row."""
    return _table_page(request.args, strict=True)


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
        return back_with_error(exc, suggestion_id)
    flash(_decided_words(result))
    return redirect(back_target() + f"#s-{suggestion_id}", code=303)


def _table_page(values: MultiDict, *, error: str | None = None, status: int = 200,
                strict: bool = False):
    at_fault: set[str] = set()
    try:
        state = read_table_state(values, strict=strict)
        listed = list_suggestions(uow_factory(), {**state.filters, "sort": state.sort},
                                  offset=page_offset(state.page, PAGE_SIZE), limit=PAGE_SIZE,
                                  policies=policies())
    except DomainError as exc:
        # The form comes back as typed, the fields at fault marked, so nothing is lost.
        state, listed = TableState(typed_filters(values)), None
        error, status = exc.detail, status_of(exc)
        at_fault = {e.field for e in exc.errors}
    total = listed["page"]["total"] if listed else 0
    counted_all = listed["page"]["total_exact"] if listed else True
    if listed and not listed["data"] and state.page > 1 and counted_all and error is None:
        # A bookmarked or typed page past the end (the plan shrank): show the last page.
        last = page_count(total, PAGE_SIZE)
        return redirect(url_for("planner.suggestions", **state.query(page=last)))
    runs, _ = list_runs(uow_factory(), offset=0, limit=RUNS_IN_FILTER)
    rows = [with_figures(row) for row in listed["data"]] if listed else []
    return render_template(
        "planner/suggestions.html", state=state, listed=listed, rows=rows, error=error,
        fields_at_fault=at_fault,
        columns=[BY_KEY[k] for k in table_columns()], statuses=STATUSES,
        runs=[r for r in runs if r["status"] == "succeeded" and not r["discarded_at"]],
        pages=page_count(total, PAGE_SIZE), total=total, back=request.full_path.rstrip("?"),
        more_than="" if counted_all else "+",
        has_next=bool(listed and listed["page"]["next_cursor"]),
        overdue_refunds=overdue_count(uow_factory(), today=policies().returns.today()),
        alerts_fresh_minutes=ALERTS_FRESH_MINUTES,
    ), status


def table_columns() -> list[str]:
    """The columns this planner chose for the table, in their order."""
    return chosen_columns(uow_factory(), current_actor(), PREFERENCE, known=KEYS,
                          default=DEFAULT)


def _detail_page(suggestion_id: int, *, error: str | None = None, status: int = 200,
                 values: MultiDict | None = None):
    shown = get_suggestion(uow_factory(), suggestion_id, policies())
    projection = project_stock(shown, forecast_config(settings()).review_period_weeks)
    # Next and previous follow the table the planner came from, with its filters and sort.
    try:
        state = read_table_state(request.args if values is None else values)
        around = neighbours(uow_factory(), {**state.filters, "sort": state.sort}, suggestion_id)
    except DomainError:
        state, around = read_table_state(MultiDict()), {"previous": None, "next": None}
    here = state.query(page=None)
    return render_template(
        "planner/suggestion.html", s=shown, projection=projection, error=error,
        quality_rule_words=RULE_WORDS[policies().quality_alerts.rule],
        alerts_fresh_minutes=ALERTS_FRESH_MINUTES,
        chart=suggestion_chart(shown, projection), chart_rows=chart_rows(shown, projection),
        around=around, table_query=here,
        figures=with_figures(shown), share_terms=SHARE_TERMS,
        back=url_for("planner.suggestion", suggestion_id=suggestion_id, **here),
    ), status


def back_target() -> str:
    # Only the console's own pages: a crafted `back` must not send planners elsewhere.
    target = request.form.get("back") or request.args.get("back", "")
    if target.startswith("/planner") and "\\" not in target and "//" not in target:
        return target
    return url_for("planner.suggestions")


def back_with_error(exc: DomainError, suggestion_id: int | None = None):
    """Show the page the form came from again, fresh from the database, with the refusal."""
    words = _conflict_words(exc, suggestion_id) if isinstance(exc, Conflict) else exc.detail
    target = urlsplit(back_target())
    found = DETAIL_PATH.match(target.path)
    if found:
        return _detail_page(int(found.group(1)), error=words, status=status_of(exc),
                            values=MultiDict(parse_qsl(target.query)))
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


@bp.app_template_filter("figure")
def figure_words(value) -> str:
    """A quantity to one decimal at most; a rounded negative zero reads 0, never −0."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    shown = f"{round(float(value), 1) + 0.0:,.1f}".removesuffix(".0")
    return shown.replace("-", "−")


@bp.app_template_filter("percent")
def percent_words(share) -> str:
    """0.98 -> 98 %, 0.955 -> 95.5 %: a share never rounds to 1 or 0.9."""
    if share is None:
        return "—"
    return f"{round(100 * float(share), 1) + 0.0:g} %"
