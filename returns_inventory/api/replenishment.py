"""The planners' review: replenishment suggestions, decisions on them, approved orders."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from flask import current_app, request

from ..domain.access import Role
from ..extensions import policies, settings, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.schemas import page_limit
from ..services.order_export import (
    CSV_COLUMNS,
    PAGE_LINES,
    approved_lines,
    csv_lines,
    export_approved_orders,
)
from ..services.suggestion_decisions import decide_in_bulk, decide_suggestion
from ..services.suggestion_reopen import reopen_suggestions
from ..services.suggestions import get_suggestion, list_suggestions
from .blueprint import Blueprint
from .csv_export import CSV, csv_table_response, wants_csv
from .quality import QualityAlert
from .replenishment_schemas import (
    BulkDecisionIn,
    BulkDecisionOut,
    DecisionIn,
    DecisionOut,
    ExportQuery,
    OrderExport,
    ReopenIn,
    ReopenOut,
    SuggestionDetail,
    SuggestionPage,
    SuggestionQuery,
)

blp = Blueprint("replenishment", __name__, url_prefix="/api/v1/replenishment",
                description="Replenishment suggestions, planners' decisions, approved orders")

REVIEWERS = (Role.PLANNER, Role.INTEGRATOR)
CENT = Decimal("0.01")


@blp.get("/suggestions")
@blp.arguments(SuggestionQuery, location="query")
@blp.response(200, SuggestionPage)
@blp.alt_response(404, description="there is no forecast run `run`")
@requires_role(*REVIEWERS)
def list_replenishment_suggestions(args):
    """A run's suggestions (default: the latest successful run), filtered, sorted, paginated."""
    limit = page_limit(args, settings())
    offset, after = args.pop("offset"), args.pop("after", None)
    return list_suggestions(uow_factory(), args, offset=offset, limit=limit,
                            policies=policies(), after=after)


@blp.get("/suggestions/<bigid:suggestion_id>")
@blp.response(200, SuggestionDetail)
@requires_role(*REVIEWERS)
def get_replenishment_suggestion(suggestion_id):
    """One suggestion: forecast, 52 weeks of sales, returns estimates, terms, decisions."""
    return get_suggestion(uow_factory(), suggestion_id, policies())


@blp.post("/suggestions/<bigid:suggestion_id>/decision")
@blp.arguments(DecisionIn)
@blp.response(200, DecisionOut)
@blp.alt_response(409, description="someone else decided first: reload and send the version")
@requires_role(Role.PLANNER)
def post_decision(body, suggestion_id):
    """Approve, edit or reject a suggestion; quantities are rounded up to whole case packs."""
    return decide_suggestion(
        uow_factory(), suggestion_id, action=body["action"], actor=current_actor(),
        quantity=body.get("quantity"), comment=body.get("comment"),
        expected_version=body.get("version"), policies=policies(),
    )


@blp.post("/suggestions/decisions")
@blp.arguments(BulkDecisionIn)
@blp.response(200, BulkDecisionOut)
@requires_role(Role.PLANNER)
def post_bulk_decision(body):
    """Approve or reject every matching suggestion still proposed or edited, all or none."""
    filters = {"ids": body["ids"]} if "ids" in body else body["filter"]
    return decide_in_bulk(uow_factory(), action=body["action"], actor=current_actor(),
                          filters=filters, comment=body.get("comment"), policies=policies())


@blp.post("/suggestions/reopen")
@blp.arguments(ReopenIn)
@blp.response(200, ReopenOut)
@requires_role(Role.PLANNER)
def post_reopen(body):
    """Reopen matching decisions the export has not served: each waits for a planner again,
    and the ERP hears `replenishment.reopened`."""
    filters = {"ids": body["ids"]} if "ids" in body else body["filter"]
    return reopen_suggestions(uow_factory(), actor=current_actor(), filters=filters,
                              comment=body.get("comment"))


@blp.get("/exports")
@blp.arguments(ExportQuery, location="query")
@blp.response(200, OrderExport)
@blp.alt_response(404, description="there is no forecast run `run`")
# Name both media types: a `content` given here replaces the one @blp.response would write.
@blp.doc(responses={"200": {
    "description": "approved orders by supplier and location",
    "content": {"application/json": {"schema": OrderExport},
                CSV: {"schema": {"type": "string"}}}}})
@requires_role(*REVIEWERS)
def get_approved_orders(args):
    """Approved orders of a run for the ERP, by supplier and location (JSON a page of lines at
    a time, or CSV)."""
    as_csv = wants_csv(args)
    limit = args.get("limit") or (None if as_csv else PAGE_LINES)
    if as_csv:
        lines = approved_lines(uow_factory(), args.get("run"), policies(), limit=limit,
                               after=args.get("after"))
        following = _next_page(lines.next_cursor)
        answer = csv_table_response(csv_lines(lines), CSV_COLUMNS,
                                    f"replenishment-run-{lines.run_id}.csv")
    else:
        export = export_approved_orders(uow_factory(), args.get("run"), policies(),
                                        limit=limit, after=args.get("after"))
        following = _next_page(export["next_cursor"])
        page = {"limit": limit, "next_cursor": export["next_cursor"], "next": following}
        # Written as plain JSON values, not through the OrderExport schema: per line the schema
        # cost more than everything else together (a test holds the two to the same answer).
        answer = current_app.json.response(order_export_document(export, page))
    if following:
        answer.headers["Link"] = f'<{following}>; rel="next"'
    return answer


def order_export_document(export: dict, page: dict) -> dict:
    """The export as the OrderExport schema writes it."""
    alerts = QualityAlert(many=True)

    def line(it: dict) -> dict:
        out = {**it, "unit_cost": _money(it["unit_cost"]), "value": _money(it["value"])}
        if "quality_alert" in it:
            out["quality_alert"] = alerts.dump(it["quality_alert"]) if it["quality_alert"] else []
        return out

    return {"run_id": export["run_id"], "as_of": export["as_of"].isoformat(), "page": page,
            "orders": [{"supplier": o["supplier"], "location": o["location"],
                        "units": o["units"], "cases": o["cases"], "value": _money(o["value"]),
                        "lines": [line(it) for it in o["lines"]]} for o in export["orders"]]}


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _next_page(cursor: str | None) -> str | None:
    """This request's path and query with `after` moved on to the cursor."""
    if cursor is None:
        return None
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "after"]
    return f"{request.path}?{urlencode([*query, ('after', cursor)])}"
