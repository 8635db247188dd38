"""Read-only reports: returns analytics for planners and buyers, write-offs for finance."""

from __future__ import annotations

from flask import jsonify, request
from marshmallow import fields, validate

from ..domain.fit_signals import TEST
from ..domain.grading import Grade
from ..domain.text import MAX_CATEGORY_CHARS
from ..extensions import policies, uow_factory
from ..http.auth import READ, requires_role
from ..http.schemas import StrictSchema
from ..services.analytics import (
    MOST_PAGE_SIZE,
    PAGE_SIZE,
    returns_analytics,
    write_off_report,
)
from ..services.report_requests import ReportComputing
from .blueprint import Blueprint
from .csv_export import CSV, csv_response, wants_csv

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Analytics and reports")

CSV_COLUMNS = ("sku", "size", "location", "reason", "units", "value")


class AnalyticsQuery(StrictSchema):
    since = fields.Date(metadata={"description": "first sale day (default: 90 days to until)"})
    until = fields.Date(metadata={"description": "last sale day, inclusive (default: today)"})
    sku = fields.String()
    category = fields.String(validate=validate.Length(max=MAX_CATEGORY_CHARS))
    after = fields.String(metadata={"description": "the last SKU of the previous page "
                                                   "(page.next_after): the page starts after it"})
    limit = fields.Integer(
        load_default=PAGE_SIZE, validate=validate.Range(min=1, max=MOST_PAGE_SIZE),
        metadata={"description": f"SKUs a page, {PAGE_SIZE} by default, at most "
                                 f"{MOST_PAGE_SIZE}"})


class SignificanceTest(StrictSchema):
    sku = fields.String()
    size = fields.String(metadata={"description": "fit tests only"})
    category = fields.String(metadata={"description": "quality and style tests only"})
    fit = fields.String(metadata={"description": "runs_small or runs_large (size fit tests), "
                                                  "style_runs_small or style_runs_large (the "
                                                  "whole SKU against its category)"})
    units_sold = fields.Integer()
    units_returned = fields.Integer(metadata={"description": "for the reasons under test"})
    share = fields.Float(metadata={"description": "units_returned / units_sold"})
    rest_share = fields.Float(metadata={"description": "the same share of the peers pooled"})
    p_value = fields.Float()
    q_value = fields.Float(metadata={"description": "Benjamini-Hochberg adjusted p-value, over "
                                                    "every test in the report"})
    flagged = fields.Boolean(metadata={"description": "q_value < 0.05"})


class ReturnFigures(StrictSchema):
    units_sold = fields.Integer()
    units_returned = fields.Integer(metadata={"description": "received units of these sales"})
    units_awaiting_receipt = fields.Integer(metadata={"description": "authorized, not received"})
    return_rate = fields.Float(allow_none=True)
    shrunk_return_rate = fields.Float(allow_none=True, metadata={
        "description": "the return rate shrunk toward the SKU's (a size) or the category's (a "
                       "SKU), as the forecast shrinks it"})
    reasons = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "received units per reason code"},
    )
    grades = fields.Dict(keys=fields.String(), values=fields.Integer())
    graded = fields.Integer()
    restockable_share = fields.Float(allow_none=True, metadata={"description": "(A+B)/graded"})
    written_off_units = fields.Integer()
    write_off_value = fields.String(metadata={"description": "posted write-offs, decimal"})
    median_days_to_receipt = fields.Float(allow_none=True)


class SizeAnalytics(ReturnFigures):
    size = fields.String()
    fit_tests = fields.List(fields.Nested(SignificanceTest))


class SkuAnalytics(ReturnFigures):
    sku = fields.String()
    category = fields.String()
    quality_test = fields.Nested(SignificanceTest, allow_none=True)
    style_tests = fields.List(fields.Nested(SignificanceTest), metadata={
        "description": "the whole SKU against the rest of its category, per fit direction"})
    sizes = fields.List(fields.Nested(SizeAnalytics))


class InspectionFigures(StrictSchema):
    reason = fields.String()
    sku = fields.String()
    units_judged = fields.Integer(metadata={"description": "units inspected (outcome in force)"})
    accepted = fields.Integer()
    deducted = fields.Integer()
    refused = fields.Integer(metadata={"description": "sent back to the customer"})
    refused_share = fields.Float(allow_none=True)
    deducted_share = fields.Float(allow_none=True)
    deducted_value = fields.String(metadata={"description": "deductions taken, decimal"})


class FlaggedCounts(StrictSchema):
    fit = fields.Integer(metadata={"description": "flagged size fit tests"})
    style = fields.Integer(metadata={"description": "flagged style fit tests"})
    quality = fields.Integer(metadata={"description": "flagged quality tests"})


class AnalyticsPage(StrictSchema):
    after = fields.String(allow_none=True, metadata={"description": "as asked"})
    limit = fields.Integer()
    skus = fields.Integer(metadata={"description": "SKUs in the report, over every page"})
    next_after = fields.String(allow_none=True, metadata={
        "description": "pass as `after` for the next page; null on the last page"})


class ReportFreshness(StrictSchema):
    computed_at = fields.String(metadata={
        "description": "when the report (units sold and back, tests, rates) was computed, "
                       "ISO 8601 UTC; grades, write-offs and units awaiting receipt are read "
                       "as the page is served"})
    current = fields.Boolean(metadata={
        "description": "true: no sale, return or item counted by the report changed since; "
                       "false: the report is served as computed and brought up to date within "
                       "minutes (the scheduler's returns-reports job, or the first read once "
                       "it is report_max_age_minutes old)"})


class ReturnsAnalytics(StrictSchema):
    window = fields.Dict(keys=fields.String(), values=fields.String())
    filters = fields.Dict()
    report = fields.Nested(ReportFreshness)
    test = fields.String(metadata={"description": TEST})
    tests_made = fields.Integer(metadata={"description": "tests corrected together, over "
                                                         "every page"})
    flagged = fields.Nested(FlaggedCounts, metadata={
        "description": "flagged tests over every page"})
    page = fields.Nested(AnalyticsPage)
    fit_signals = fields.List(fields.Nested(SignificanceTest), metadata={
        "description": "the flagged size tests of this page's SKUs"})
    style_signals = fields.List(fields.Nested(SignificanceTest), metadata={
        "description": "the flagged style tests of this page's SKUs"})
    quality_signals = fields.List(fields.Nested(SignificanceTest), metadata={
        "description": "the flagged quality tests of this page's SKUs"})
    skus = fields.List(fields.Nested(SkuAnalytics), metadata={
        "description": "this page's SKUs, in SKU order"})
    inspection = fields.List(fields.Nested(InspectionFigures), metadata={
        "description": "refused and deducted units at inspection of this page's SKUs, by "
                       "reason and SKU, the most refused or deducted first"})


class ReportWindow(StrictSchema):
    since = fields.String(metadata={"description": "first sale day, ISO 8601"})
    until = fields.String(metadata={"description": "last sale day, ISO 8601"})


class ReturnsReportComputing(StrictSchema):
    state = fields.String(metadata={"description": "always `computing`"})
    window = fields.Nested(ReportWindow)
    filters = fields.Dict(metadata={"description": "sku and category, as asked"})
    requested_at = fields.String(metadata={
        "description": "when the first read asked for this report, ISO 8601 UTC"})
    retry_after = fields.Integer(metadata={
        "description": "seconds to wait before asking again, as the Retry-After header"})
    poll = fields.String(metadata={
        "description": "the URL to read again: 200 with the page once the report is stored"})


class WriteOffQuery(StrictSchema):
    since = fields.Date(metadata={"description": "first posting day (UTC), inclusive"})
    until = fields.Date(metadata={"description": "last posting day (UTC), inclusive"})
    reason = fields.String(metadata={"description": "the reason text contains this"})
    grade = fields.String(validate=validate.OneOf([g.value for g in Grade]))
    defect = fields.String(metadata={"description": "a defect code ticked at grading"})
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    format = fields.String(
        validate=validate.OneOf(["json", "csv"]),
        metadata={"description": "csv, or send Accept: text/csv"},
    )


class WriteOffRow(StrictSchema):
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    reason = fields.String()
    units = fields.Integer()
    value = fields.Decimal(as_string=True)


class WriteOffTotals(StrictSchema):
    units = fields.Integer()
    value = fields.Decimal(as_string=True)


class WriteOffReport(StrictSchema):
    filters = fields.Dict()
    rows = fields.List(fields.Nested(WriteOffRow))
    totals = fields.Nested(WriteOffTotals)


@blp.get("/analytics/returns")
@blp.arguments(AnalyticsQuery, location="query")
@blp.response(200, ReturnsAnalytics)
@blp.alt_response(
    202, schema=ReturnsReportComputing, success=True,
    description="The window's report is not stored yet and is being computed (seconds at "
                "100,000 items): ask again at `poll` after `Retry-After` seconds.",
    headers={"Retry-After": {"description": "seconds to wait before asking again",
                             "schema": {"type": "integer"}}})
@requires_role(*READ)
def get_returns_analytics(args):
    """Returns by SKU and size for sales in the window, with fit and quality signals, a page
    of SKUs at a time (keyset: `after` the previous page's `page.next_after`).

    Signals: a one-sided Fisher exact test per size against the SKU's other sizes (too_small,
    too_large) and per SKU against its category's other SKUs (fit and quality reasons), with
    one Benjamini-Hochberg correction at q < 0.05 over every test of the report (every page).

    The default windows (the 90 days ending today, and the planner page's windows) are kept
    computed. The first read of another window answers **202 Accepted** with a `Retry-After`
    header when computing its report takes longer than a reader should wait: the report is
    computed once in the background, however many read it meanwhile, and the same URL then
    answers 200.
    """
    found = returns_analytics(uow_factory(), policies().returns, **args)
    if isinstance(found, ReportComputing):
        return computing_answer(found, args)
    # The service answers exactly what the schema would dump (a test holds it to that), and
    # dumping a page of 100 SKUs' sizes and tests through marshmallow was a third of its time.
    return jsonify(found)


def computing_answer(found: ReportComputing, args: dict):
    """202 Accepted: the report is being computed; read the same URL again later."""
    poll = request.full_path.rstrip("?")
    body = {"state": "computing",
            "window": {"since": found.since.isoformat(), "until": found.until.isoformat()},
            "filters": {"sku": args.get("sku"), "category": args.get("category")},
            "requested_at": found.requested_at.isoformat(),
            "retry_after": found.retry_after, "poll": poll}
    answer = jsonify(body)
    answer.status_code = 202
    answer.headers["Retry-After"] = str(found.retry_after)
    answer.headers["Location"] = poll
    answer.headers["Cache-Control"] = "no-store"
    return answer


@blp.get("/reports/write-offs")
@blp.arguments(WriteOffQuery, location="query")
@blp.response(200, WriteOffReport)
@blp.alt_response(
    200,
    schema={"type": "string", "description": "the rows as CSV: " + ",".join(CSV_COLUMNS)},
    content_type=CSV,
    success=True,
)
@requires_role(*READ)
def get_write_off_report(args):
    """Posted write-offs summed by sku, size, location and reason (JSON, or CSV on request)."""
    as_csv = wants_csv(args)
    args.pop("format", None)
    report = write_off_report(uow_factory(), **args)
    return csv_response(report["rows"], CSV_COLUMNS, "write-offs.csv") if as_csv else report
