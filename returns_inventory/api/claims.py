"""Vendor claims: units sent back to suppliers, the money owed for them, and the credit."""

from __future__ import annotations

from flask import Response
from marshmallow import fields, validate

from ..domain.access import Role
from ..domain.claims import ClaimStatus
from ..extensions import policies, uow_factory
from ..http.auth import READ, current_actor, requires_role
from ..http.schemas import StrictSchema
from ..services.claims import (
    claim_detail,
    credit_claim,
    expiring_units,
    gather_claims,
    list_claims,
    reject_claim,
    send_claim,
)
from .blueprint import Blueprint
from .claim_pdf import claim_pdf
from .csv_export import CSV, csv_response

blp = Blueprint("claims", __name__, url_prefix="/api/v1/claims",
                description="Vendor claims for units returned to their supplier")

Money = fields.Decimal(as_string=True, places=2)
PDF = "application/pdf"
CSV_COLUMNS = ("claim_id", "supplier", "unit", "sku", "size", "grade", "defects", "value",
               "sold_on", "window_ends_on")
HANDLERS = (Role.PLANNER, Role.INTEGRATOR)


class ClaimQuery(StrictSchema):
    status = fields.String(validate=validate.OneOf([s.value for s in ClaimStatus]))
    supplier = fields.String()


class ClaimOut(StrictSchema):
    id = fields.Integer()
    supplier = fields.String()
    status = fields.String(metadata={"description": "draft, sent, credited or rejected"})
    units = fields.Integer()
    value = Money
    credited_value = fields.Decimal(as_string=True, places=2, allow_none=True)
    erp_reference = fields.String(allow_none=True)
    note = fields.String(allow_none=True, metadata={"description": "why it was rejected"})
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class ClaimUnit(StrictSchema):
    unit = fields.String()
    sku = fields.String()
    size = fields.String()
    grade = fields.String(allow_none=True)
    defects = fields.List(fields.String())
    value = Money
    sold_on = fields.String(allow_none=True)
    window_ends_on = fields.String(allow_none=True,
                                   metadata={"description": "last day the supplier accepts it"})
    days_left = fields.Integer(allow_none=True, metadata={"description": "negative: expired"})


class ClaimDetail(ClaimOut):
    units_detail = fields.List(fields.Nested(ClaimUnit))


class ClaimList(StrictSchema):
    data = fields.List(fields.Nested(ClaimOut))


class LeftOutUnit(StrictSchema):
    unit = fields.String()
    supplier = fields.String()
    value = Money
    window_ends_on = fields.String(metadata={"description": "the last day the supplier "
                                                            "accepted a claim for it"})


class GatherOut(ClaimList):
    window_ended = fields.List(fields.Nested(LeftOutUnit), metadata={
        "description": "units left out: their claim window ended before today, so the "
                       "supplier would refuse them (GET /claims/expiring lists them too)"})


class GatherIn(StrictSchema):
    supplier = fields.String(validate=validate.Length(min=1, max=64),
                             metadata={"description": "only this supplier's units"})


class ExportQuery(StrictSchema):
    format = fields.String(validate=validate.OneOf(["json", "csv", "pdf"]),
                           metadata={"description": "csv or pdf: the document for the supplier"})


class CreditIn(StrictSchema):
    # No `places`: marshmallow would round 12.345 to 12.34; the service refuses it instead.
    amount = fields.Decimal(required=True, as_string=True,
                            metadata={"description": "credited by the supplier, in cents "
                                                     "(at most 2 decimal places), <= value"})
    reference = fields.String(validate=validate.Length(max=128),
                              metadata={"description": "the ERP's credit note"})


class RejectIn(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ExpiringQuery(StrictSchema):
    within_days = fields.Integer(load_default=30, validate=validate.Range(min=0, max=3650))


class ExpiringUnit(StrictSchema):
    unit = fields.String()
    sku = fields.String()
    size = fields.String()
    supplier = fields.String()
    value = Money
    sold_on = fields.String(allow_none=True)
    window_ends_on = fields.String()
    days_left = fields.Integer()
    claim_id = fields.Integer(allow_none=True, metadata={"description": "its draft claim"})


class ExpiringList(StrictSchema):
    data = fields.List(fields.Nested(ExpiringUnit))


def _today():
    return policies().returns.today()


@blp.get("")
@blp.arguments(ClaimQuery, location="query")
@blp.response(200, ClaimList)
@requires_role(*READ)
def get_claims(args):
    """Claims, newest first, by `status` and `supplier`."""
    return {"data": list_claims(uow_factory(), **args)}


@blp.post("/gather")
@blp.arguments(GatherIn)
@blp.response(200, GatherOut)
@requires_role(Role.PLANNER)
def post_gather(body):
    """Put every unit returned to its supplier and not yet claimed into that supplier's draft,
    leaving out (and listing) those whose claim window has ended."""
    gathered = gather_claims(uow_factory(), policies().grading, actor=current_actor(),
                             today=_today(), supplier=body.get("supplier"))
    return {"data": gathered["drafts"], "window_ended": gathered["window_ended"]}


@blp.get("/expiring")
@blp.arguments(ExpiringQuery, location="query")
@blp.response(200, ExpiringList)
@requires_role(*READ)
def get_expiring(args):
    """Units not yet sent whose claim window ends within `within_days` (or already ended)."""
    return {"data": expiring_units(uow_factory(), policies().grading,
                                   within_days=args["within_days"], today=_today())}


@blp.get("/<int:claim_id>")
@blp.arguments(ExportQuery, location="query")
@blp.response(200, ClaimDetail)
@blp.alt_response(200, schema={"type": "string", "description": "CSV: " + ",".join(CSV_COLUMNS)},
                  content_type=CSV, success=True)
@blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=PDF,
                  success=True)
@requires_role(*READ)
def get_claim(args, claim_id):
    """One claim with its units (JSON), or the document for the supplier (CSV or PDF)."""
    claim = claim_detail(uow_factory(), claim_id, _today())
    kind = args.get("format", "json")
    if kind == "csv":
        rows = [{**u, "claim_id": claim["id"], "supplier": claim["supplier"],
                 "defects": " ".join(u["defects"])} for u in claim["units_detail"]]
        return csv_response(rows, CSV_COLUMNS, f"claim-{claim_id}.csv")
    if kind == "pdf":
        return Response(claim_pdf(claim), mimetype=PDF, headers={
            "Content-Disposition": f'attachment; filename="claim-{claim_id}.pdf"'})
    return claim


@blp.post("/<int:claim_id>/send")
@blp.response(200, ClaimDetail)
@requires_role(Role.PLANNER)
def post_send(claim_id):
    """A draft claim goes to its supplier; the ERP hears `claim.sent`."""
    return send_claim(uow_factory(), claim_id=claim_id, actor=current_actor(), today=_today())


@blp.post("/<int:claim_id>/credit")
@blp.arguments(CreditIn)
@blp.response(200, ClaimDetail)
@requires_role(*HANDLERS)
def post_credit(body, claim_id):
    """The supplier credited a sent claim (in full or less); the ERP hears `claim.credited`."""
    return credit_claim(uow_factory(), claim_id=claim_id, amount=body["amount"],
                        reference=body.get("reference"), actor=current_actor(), today=_today())


@blp.post("/<int:claim_id>/reject")
@blp.arguments(RejectIn)
@blp.response(200, ClaimDetail)
@requires_role(*HANDLERS)
def post_reject(body, claim_id):
    """The supplier refused a sent claim; the ERP hears `claim.rejected`."""
    return reject_claim(uow_factory(), claim_id=claim_id, reason=body["reason"],
                        actor=current_actor(), today=_today())
