"""The suggestions table's columns chosen per planner, and its export as CSV or XLSX of
exactly the columns and rows the planner sees (every page of them, in the table's order)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from ..domain.access import Role
from ..domain.errors import DomainError
from ..extensions import uow_factory
from ..http.auth import current_actor, requires_role
from ..http.problems import status_of
from ..services.preferences import choose_columns, forget_columns
from ..services.suggestions import table_rows
from .forms import whole_number
from .planner import back_target, bp, table_columns
from .planner_columns import (
    ALL,
    BY_KEY,
    KEYS,
    PREFERENCE,
    csv_bytes,
    fields_of,
    table_figures,
    xlsx_bytes,
)
from .planner_filters import read_table_state

# One export is one query; past this, narrow the filter (a night's plan is a few thousand).
EXPORT_LIMIT = 50_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/export.<any(csv, xlsx):kind>")
@requires_role(Role.PLANNER)
def export(kind: str):
    """The table as shown: the planner's columns, the filters and sort, every page."""
    state = read_table_state(request.args, strict=True)  # never the whole plan by mistake
    keys = table_columns()
    # Only the fields the chosen columns show: of a suggestion's 26, decoding the others
    # was a third of a 4,000-row export's time.
    listed = table_rows(uow_factory(), {**state.filters, "sort": state.sort},
                        limit=EXPORT_LIMIT, names=fields_of(keys))
    run = listed["run"]["id"] if listed["run"] else "none"
    name = f"suggestions-run-{run}.{kind}"
    if kind == "csv":
        body, mimetype = csv_bytes(listed["data"], keys), "text/csv"  # werkzeug: charset
    else:
        rows = [{**row, **table_figures(row)} for row in listed["data"]]
        body, mimetype = xlsx_bytes(rows, keys, f"Run {run}"), XLSX
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/columns")
@requires_role(Role.PLANNER)
def columns():
    """Choose the table's columns and their order."""
    chosen = table_columns()
    others = [c for c in ALL if c.key not in chosen]
    return render_template("planner/columns.html", chosen=[BY_KEY[k] for k in chosen],
                           others=others, back=back_target())


@bp.post("/columns")
@requires_role(Role.PLANNER)
def save_columns():
    """Remember the ticked columns in the order of their numbers (ties keep the listed order)."""
    if request.form.get("reset"):
        forget_columns(uow_factory(), current_actor(), PREFERENCE)
        flash("The table shows the default columns again.")
        return redirect(back_target(), code=303)
    ticked = request.form.getlist("columns")
    place = {k: _position(request.form.get(f"position-{k}"), i) for i, k in enumerate(KEYS)}
    ordered = sorted(ticked, key=lambda k: place.get(k, (10**7, 0)))
    try:
        choose_columns(uow_factory(), current_actor(), PREFERENCE, ordered, known=KEYS)
    except DomainError as exc:
        chosen = table_columns()
        return render_template(
            "planner/columns.html", chosen=[BY_KEY[k] for k in chosen], error=exc.detail,
            others=[c for c in ALL if c.key not in chosen], back=back_target(),
        ), status_of(exc)
    flash(f"The table shows {len(ordered)} columns in your order.")
    return redirect(back_target() if request.form.get("back") else url_for(
        "planner.suggestions"), code=303)


def _position(text: str | None, listed: int) -> tuple[int, int]:
    # A blank or odd number puts the column last, in the listed order.
    return whole_number(text, 10**6), listed
