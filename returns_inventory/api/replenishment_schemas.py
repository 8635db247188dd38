"""Request and response schemas of the planners' review of replenishment suggestions."""

from __future__ import annotations

from typing import ClassVar

from marshmallow import ValidationError, fields, validate, validates_schema

from ..domain.replenishment import MAX_ORDER_QUANTITY, STATUSES, TERM_MEANINGS
from ..domain.suggestion_filters import SORTABLE
from ..domain.text import MAX_NOTE_CHARS
from ..http.schemas import PageArgs, PageInfo, StrictSchema
from ..http.suggestion_filter import SuggestionFilterIn
from ..services.order_export import MAX_PAGE_LINES, PAGE_LINES
from ..services.suggestion_decisions import BULK_LIMIT
from .quality import QualityAlert

Money = fields.Decimal(as_string=True, places=2)
_COLUMN = "-?(" + "|".join(SORTABLE) + ")"
SORT_PATTERN = f"^({_COLUMN}(,{_COLUMN})*)?$"  # the same rule the document states


class SuggestionQuery(SuggestionFilterIn, PageArgs):
    sort = fields.String(validate=validate.Regexp(SORT_PATTERN), metadata={
        "description": "comma separated columns, `-` for descending, e.g. `-value,sku`; "
                       "one of " + ", ".join(SORTABLE) + "; empty values sort last"})
    after = fields.String(validate=validate.Length(min=1, max=2000), metadata={
        "description": "the previous page's `page.next_cursor` (same filters and sort): the "
                       "page after it, read as fast deep in a run as on its first page; "
                       "prefer it to `offset`"})


class RunRef(StrictSchema):
    id = fields.Integer()
    as_of = fields.Date()


class Suggestion(StrictSchema):
    id = fields.Integer()
    run_id = fields.Integer()
    as_of = fields.Date()
    status = fields.String(metadata={"description": ", ".join(STATUSES)})
    sku = fields.String()
    size = fields.String()
    category = fields.String()
    supplier = fields.String(allow_none=True)
    location = fields.String()
    suggested_qty = fields.Integer(metadata={"description": "what the return-aware plan orders"})
    return_blind_qty = fields.Integer(metadata={"description": "what ignoring returns orders"})
    saved_by_returns = fields.Integer(metadata={"description": "return_blind_qty - "
                                                               "suggested_qty"})
    approved_qty = fields.Integer(allow_none=True,
                                  metadata={"description": "a planner's quantity (edited or "
                                                           "approved), whole cases"})
    previous_qty = fields.Integer(allow_none=True,
                                  metadata={"description": "the previous run's suggestion"})
    change = fields.Integer(metadata={"description": "suggested_qty - previous_qty (no "
                                                     "previous counts as 0)"})
    case_pack = fields.Integer()
    unit_cost = Money
    value = Money
    version = fields.Integer(metadata={"description": "send it back with a decision"})
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    comment = fields.String(allow_none=True)
    quality_alert = fields.List(fields.Nested(QualityAlert), metadata={
        "description": "its style or supplier returns significantly more for quality than its "
                       "category on recent sales (config/forecasting.toml [quality_alerts])"})


class SuggestionPageInfo(PageInfo):
    total = fields.Integer(metadata={
        "description": "how many match, counted up to 1,000 (see total_exact)"})
    total_exact = fields.Boolean(metadata={
        "description": "false: at least `total` match, and more (the count stops there)"})
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "pass as `after` for the next page; null on the last page"})


class SuggestionPage(StrictSchema):
    run = fields.Nested(RunRef, allow_none=True,
                        metadata={"description": "null before any run succeeded"})
    data = fields.List(fields.Nested(Suggestion))
    quality_alerts_as_of = fields.DateTime(allow_none=True, metadata={
        "description": "when the quality alerts were worked out: lists keep them up to 5 "
                       "minutes (null when no row was marked)"})
    page = fields.Nested(SuggestionPageInfo)


class ForecastWeek(StrictSchema):
    week = fields.Date(metadata={"description": "Monday"})
    forecast = fields.Float()
    lower = fields.Float()
    upper = fields.Float()


class Forecast(StrictSchema):
    method = fields.String()
    why = fields.String(metadata={"description": "why this method was chosen"})
    level = fields.String()
    demand_class = fields.String()
    interval_level = fields.Float()
    explanation = fields.String()
    weeks = fields.List(fields.Nested(ForecastWeek))


class WeekUnits(StrictSchema):
    week = fields.Date(metadata={"description": "Monday"})
    units = fields.Float()


class ReturnsEstimate(StrictSchema):
    rate = fields.Float(metadata={"description": "share of sold units that come back"})
    restockable_share = fields.Float(metadata={"description": "share of returns fit to sell"})
    lag_median_weeks = fields.Float(metadata={"description": "weeks from sale to receipt"})
    expected_per_week = fields.List(fields.Nested(WeekUnits), metadata={
        "description": "restockable units expected back per forecast week"})


class ReturnsPipeline(StrictSchema):
    units_still_out = fields.Float(metadata={
        "description": "units sold within the return window and not back yet"})
    expected_back = fields.Float(metadata={
        "description": "of them, restockable units expected back within the protection weeks"})
    by_week = fields.List(fields.Nested(WeekUnits), metadata={
        "description": "restockable units expected back from past sales, week by week"})
    service_target = fields.String(metadata={"description": "cycle, fill or cost"})
    service_level = fields.Float(allow_none=True)
    policy = fields.String(metadata={"description": "order_up_to or rQ (fixed order cost)"})
    order_lot = fields.Float(metadata={"description": "Q of an (r,Q) order, 0 otherwise"})


class Term(StrictSchema):
    term = fields.String(metadata={"description": ", ".join(TERM_MEANINGS)})
    value = fields.Raw()
    meaning = fields.String(metadata={"description": "the term in plain words"})


class DecisionEntry(StrictSchema):
    action = fields.String()
    quantity = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    from_version = fields.Integer()
    actor = fields.String()
    created_at = fields.DateTime()


class SuggestionDetail(Suggestion):
    description = fields.String()
    forecast = fields.Nested(Forecast, allow_none=True)
    history = fields.List(fields.Nested(WeekUnits),
                          metadata={"description": "units sold in each of the last 52 weeks"})
    returns = fields.Nested(ReturnsEstimate, allow_none=True)
    terms = fields.List(fields.Nested(Term))
    explanation = fields.String(metadata={"description": "the order arithmetic in a sentence"})
    pipeline = fields.Nested(ReturnsPipeline, allow_none=True, metadata={
        "description": "the known returns pipeline and the target and policy behind the "
                       "quantity (null for runs before they were kept)"})
    decisions = fields.List(fields.Nested(DecisionEntry), metadata={"description": "oldest "
                                                                                   "first"})
    quality_alerts_as_of = fields.DateTime(allow_none=True, metadata={
        "description": "when the quality alerts were worked out: lists keep them up to 5 "
                       "minutes (null when no row was marked)"})


class DecisionIn(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(["approve", "reject", "edit"]))
    quantity = fields.Integer(validate=validate.Range(min=1, max=MAX_ORDER_QUANTITY), metadata={
        "description": "edit: required; approve: optional (default the edited, else the "
                       "suggested quantity); rounded up to whole case packs"})
    comment = fields.String(validate=validate.Length(max=MAX_NOTE_CHARS))
    version = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "the version you saw; required once someone has decided"})


class CasePackRounding(StrictSchema):
    requested = fields.Integer()
    quantity = fields.Integer()
    case_pack = fields.Integer()
    cases = fields.Integer()
    rounded_up = fields.Boolean()
    note = fields.String()


class DecisionMade(StrictSchema):
    action = fields.String()
    quantity = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    from_version = fields.Integer()
    actor = fields.String()


class DecisionOut(StrictSchema):
    suggestion = fields.Nested(Suggestion)
    decision = fields.Nested(DecisionMade)
    case_pack = fields.Nested(CasePackRounding, allow_none=True,
                              metadata={"description": "null for a rejection"})


class SelectionIn(StrictSchema):
    """Which suggestions a bulk request acts on: a filter or a list of ids, not both."""

    OPENAPI: ClassVar[dict] = {"oneOf": [{"required": ["filter"]}, {"required": ["ids"]}]}

    filter = fields.Nested(SuggestionFilterIn, metadata={
        "description": "the list's filters; {} means every suggestion of the latest run"})
    ids = fields.List(fields.Integer(), validate=validate.Length(min=1, max=BULK_LIMIT))
    comment = fields.String(validate=validate.Length(max=MAX_NOTE_CHARS))

    @validates_schema
    def _one_selection(self, data, **_):
        if ("filter" in data) == ("ids" in data):
            raise ValidationError("give either filter or ids", field_name="filter")


class BulkDecisionIn(SelectionIn):
    action = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))


class BulkDecisionOut(StrictSchema):
    action = fields.String()
    matched = fields.Integer(metadata={"description": "suggestions the filter or ids matched"})
    decided = fields.Integer(metadata={"description": "of those, proposed or edited ones "
                                                      "now approved or rejected"})
    skipped = fields.Integer(metadata={"description": "already decided, superseded, or "
                                                      "nothing to order"})
    rounded_up = fields.Integer(metadata={"description": "approvals rounded up to case packs"})


class ReopenIn(SelectionIn):
    """Decided suggestions to put back to proposed."""


class ReopenOut(StrictSchema):
    matched = fields.Integer(metadata={"description": "suggestions the filter or ids matched"})
    reopened = fields.Integer(metadata={"description": "decided, not yet exported, and now "
                                                       "proposed again"})
    skipped = fields.Integer(metadata={"description": "not decided, or already served by the "
                                                      "export"})


class ExportQuery(StrictSchema):
    run = fields.Integer(validate=validate.Range(min=1),
                         metadata={"description": "default: the latest successful run"})
    format = fields.String(validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "csv, or send Accept: text/csv"})
    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_LINES), metadata={
        "description": f"order lines per page (JSON default {PAGE_LINES:,}; CSV default "
                       "every line)"})
    after = fields.String(validate=validate.Length(min=1, max=2000), metadata={
        "description": "the previous page's `page.next_cursor` (same run): the lines after it"})


class OrderLine(StrictSchema):
    suggestion_id = fields.Integer()
    sku = fields.String()
    size = fields.String()
    quantity = fields.Integer()
    case_pack = fields.Integer()
    cases = fields.Integer()
    unit_cost = Money
    value = Money
    quality_alert = fields.List(fields.Nested(QualityAlert))


class SupplierOrder(StrictSchema):
    supplier = fields.String(allow_none=True)
    location = fields.String()
    units = fields.Integer()
    cases = fields.Integer()
    value = Money
    lines = fields.List(fields.Nested(OrderLine))


class ExportPage(StrictSchema):
    limit = fields.Integer(metadata={"description": "order lines per page"})
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "pass as `after` for the next page; null on the last page"})
    next = fields.String(allow_none=True, metadata={
        "description": "the next page's path and query (also in the `Link` header, "
                       "rel=next); null on the last page"})


class OrderExport(StrictSchema):
    run_id = fields.Integer()
    as_of = fields.Date()
    orders = fields.List(fields.Nested(SupplierOrder), metadata={
        "description": "one per supplier and location, in supplier, location, SKU, size "
                       "order; an order's lines may go on at the start of the next page, and "
                       "its units, cases and value are always the whole order's"})
    page = fields.Nested(ExportPage)
