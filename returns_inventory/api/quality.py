"""Quality scorecards: by supplier, factory, style, season or fabric (JSON or CSV)."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.quality import Dimension
from ..extensions import policies, uow_factory
from ..http.auth import READ, requires_role
from ..http.schemas import StrictSchema
from ..services.quality import quality_scorecards
from .blueprint import Blueprint
from .csv_export import CSV, csv_response, wants_csv

blp = Blueprint("quality", __name__, url_prefix="/api/v1/analytics",
                description="Quality scorecards for buyers and supplier managers")

Money = fields.Decimal(as_string=True, places=2)
CSV_COLUMNS = (
    "group", "units_sold", "quality_returns", "quality_return_rate", "interval_low",
    "interval_high", "category_rate", "vs_category", "previous_rate", "change", "flagged",
    "q_value", "top_defects", "graded", "restock_yield", "written_off_units", "write_off_value",
    "claims_recovered", "claims_outstanding", "claims_not_sent",
)


class QualityQuery(StrictSchema):
    by = fields.String(load_default=Dimension.SUPPLIER.value,
                       validate=validate.OneOf([d.value for d in Dimension]),
                       metadata={"description": "what to group items by"})
    since = fields.Date(metadata={"description": "first sale day (default: 90 days to until)"})
    until = fields.Date(metadata={"description": "last sale day, inclusive (default: today)"})
    category = fields.String()
    format = fields.String(validate=validate.OneOf(["json", "csv"]),
                           metadata={"description": "csv, or send Accept: text/csv"})


class Interval(StrictSchema):
    level = fields.Float()
    low = fields.Float()
    high = fields.Float()


class Previous(StrictSchema):
    units_sold = fields.Integer()
    quality_returns = fields.Integer()
    quality_return_rate = fields.Float(allow_none=True)


class CategoryTest(StrictSchema):
    category = fields.String()
    units_sold = fields.Integer()
    quality_returns = fields.Integer()
    share = fields.Float()
    rest_share = fields.Float(metadata={"description": "the category's other groups pooled"})
    p_value = fields.Float()
    q_value = fields.Float(metadata={"description": "Benjamini-Hochberg, over the report"})
    flagged = fields.Boolean(metadata={"description": "q_value < 0.05"})


class Month(StrictSchema):
    month = fields.String(metadata={"description": "YYYY-MM of the sale"})
    units_sold = fields.Integer()
    quality_returns = fields.Integer()
    quality_return_rate = fields.Float()


class ClaimMoney(StrictSchema):
    recovered = Money
    outstanding = Money
    not_sent = Money
    owed = fields.Decimal(as_string=True, places=2,
                          metadata={"description": "outstanding + not_sent: still to recover"})
    rejected = Money
    written_down = Money


class QualityAlert(StrictSchema):
    by = fields.String(metadata={"description": "style or supplier"})
    group = fields.String(metadata={"description": "the SKU or the supplier flagged"})
    category = fields.String()
    units_sold = fields.Integer(metadata={"description": "in the alert window"})
    quality_returns = fields.Integer()
    share = fields.Float()
    rest_share = fields.Float(metadata={"description": "the rest of the category"})
    q_value = fields.Float()
    since = fields.String(metadata={"description": "first sale day of the alert window"})
    until = fields.String()


class Scorecard(StrictSchema):
    group = fields.String(metadata={"description": "the supplier, factory, SKU, season..."})
    units_sold = fields.Integer()
    quality_returns = fields.Integer(metadata={"description": "received for quality reasons"})
    quality_return_rate = fields.Float(allow_none=True)
    interval = fields.Nested(Interval, allow_none=True, metadata={"description": "Wilson"})
    category_rate = fields.Float(allow_none=True,
                                 metadata={"description": "its categories' rate, its mix"})
    vs_category = fields.Float(allow_none=True)
    previous = fields.Nested(Previous)
    change = fields.Float(allow_none=True, metadata={"description": "rate minus previous"})
    defects = fields.Dict(keys=fields.String(), values=fields.Integer())
    graded = fields.Integer()
    restock_yield = fields.Float(allow_none=True, metadata={"description": "(A+B)/graded"})
    written_off_units = fields.Integer()
    write_off_value = Money
    claims = fields.Nested(ClaimMoney)
    tests = fields.List(fields.Nested(CategoryTest))
    flagged = fields.Boolean()
    months = fields.List(fields.Nested(Month))


class Scorecards(StrictSchema):
    by = fields.String()
    window = fields.Dict(keys=fields.String(), values=fields.String())
    previous_window = fields.Dict(keys=fields.String(), values=fields.String())
    filters = fields.Dict()
    quality_reasons = fields.List(fields.String())
    test = fields.String()
    flagged = fields.List(fields.String())
    groups = fields.List(fields.Nested(Scorecard))


@blp.get("/quality")
@blp.arguments(QualityQuery, location="query")
@blp.response(200, Scorecards)
@blp.alt_response(200, schema={"type": "string", "description": "CSV: " + ",".join(CSV_COLUMNS)},
                  content_type=CSV, success=True)
@requires_role(*READ)
def get_quality_scorecards(args):
    """Quality scorecards for sales in the window, each group tested against its category.

    A group is flagged when, in one of its categories, its share of units sold that came back
    for quality reasons exceeds the category's other groups (one-sided Fisher exact), with a
    Benjamini-Hochberg correction at q < 0.05 over every test of the report.
    """
    as_csv = wants_csv(args)
    args.pop("format", None)
    found = quality_scorecards(uow_factory(), policies().returns, **args)
    if as_csv:
        return csv_response([csv_row(r) for r in found["groups"]], CSV_COLUMNS,
                            f"quality-by-{found['by']}.csv")
    return found


def csv_row(row: dict) -> dict:
    """One scorecard flattened for a spreadsheet."""
    interval = row["interval"] or {}
    return {
        **{k: row[k] for k in ("group", "units_sold", "quality_returns", "quality_return_rate",
                               "category_rate", "vs_category", "change", "flagged", "graded",
                               "restock_yield", "written_off_units", "write_off_value")},
        "interval_low": interval.get("low"), "interval_high": interval.get("high"),
        "previous_rate": row["previous"]["quality_return_rate"],
        "q_value": min((t["q_value"] for t in row["tests"]), default=None),
        "top_defects": "; ".join(f"{code} {n}" for code, n in list(row["defects"].items())[:3]),
        "claims_recovered": row["claims"]["recovered"],
        "claims_outstanding": row["claims"]["outstanding"],
        "claims_not_sent": row["claims"]["not_sent"],
    }
