"""Return authorizations (RMAs) and the units received against them."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.access import Role
from ..domain.text import MAX_NOTE_CHARS
from ..extensions import policies, uow_factory
from ..http.auth import READ, current_actor, requires_role
from ..http.schemas import StrictSchema
from ..services.receiving import receive_blind, receive_units
from ..services.returns import ReturnLineRequest, authorize_return, cancel_return, get_return
from .blueprint import Blueprint

blp = Blueprint("returns", __name__, url_prefix="/api/v1", description="Returns (RMAs)")

RESOLUTIONS = ["refund", "exchange", "repair"]


class ReturnLineIn(StrictSchema):
    line_ref = fields.String(required=True, metadata={"description": "sale line reference"})
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    reason = fields.String(required=True, metadata={"description": "a reason code from policy"})
    resolution = fields.String(load_default="refund", validate=validate.OneOf(RESOLUTIONS))
    exchange_sku = fields.String(metadata={"description": "defaults to the sold SKU"})
    exchange_size = fields.String(metadata={"description": "size wanted instead"})
    fallback = fields.String(validate=validate.OneOf(["refund", "backorder"]),
                             metadata={"description": "if the exchange is out of stock"})
    condition_met = fields.Boolean(load_default=True, metadata={
        "description": "tags on, unworn, unwashed (required for non-quality reasons)"})
    note = fields.String(validate=validate.Length(max=MAX_NOTE_CHARS))
    condition = fields.Nested(lambda: DeclaredCondition(), metadata={
        "description": "the checks the customer declared; replaces condition_met when sent"})


class DeclaredCondition(StrictSchema):
    tags_on = fields.Boolean(required=True)
    unworn = fields.Boolean(required=True)
    unwashed = fields.Boolean(required=True)


class ReturnIn(StrictSchema):
    order_ref = fields.String(required=True, validate=validate.Length(min=1, max=64))
    lines = fields.List(fields.Nested(ReturnLineIn), required=True,
                        validate=validate.Length(min=1, max=200))
    gift = fields.Boolean(load_default=False)
    customer_note = fields.String(validate=validate.Length(max=MAX_NOTE_CHARS))
    requested_on = fields.Date(metadata={"description": "defaults to today"})
    address_ref = fields.String(validate=validate.Length(min=1, max=128), metadata={
        "description": "the ERP's reference of the customer's address: a unit refused at "
                       "inspection is sent back there"})


class ReturnOut(StrictSchema):
    rma = fields.String()
    order_ref = fields.String()
    status = fields.String()
    shipping_paid_by = fields.String()
    lines = fields.List(fields.Dict())
    exchanges = fields.List(fields.Dict())
    units = fields.List(fields.Dict())
    customer_note = fields.String(allow_none=True)
    refund_timing = fields.String(metadata={
        "description": "on_receipt or on_inspection: when this return's refunds are owed"})
    refund_method = fields.String(metadata={
        "description": "original_payment, store_credit or gift_card"})
    address_ref = fields.String(allow_none=True)
    settling = fields.Boolean(metadata={
        "description": "true while graded units' refund and the customer's answer are being "
                       "settled (within seconds of the grade); each unit says so too"})


class ReceiptLineIn(StrictSchema):
    line_no = fields.Integer(required=True, validate=validate.Range(min=1))
    quantity = fields.Integer(required=True, validate=validate.Range(min=1, max=1000))


class ReceiptIn(StrictSchema):
    location = fields.String(required=True, metadata={"description": "receiving location code"})
    lines = fields.List(fields.Nested(ReceiptLineIn), required=True,
                        validate=validate.Length(min=1))


class BlindReceiptIn(StrictSchema):
    sku = fields.String(required=True)
    size = fields.String(required=True)
    location = fields.String(required=True)
    quantity = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100))
    note = fields.String(validate=validate.Length(max=MAX_NOTE_CHARS))


class UnitReceived(StrictSchema):
    unit_id = fields.String()
    label_code = fields.String(metadata={"description": "print this on the unit's label"})
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    line_no = fields.Integer(allow_none=True)
    flagged_for_review = fields.Boolean()


class ReceiptOut(StrictSchema):
    units = fields.List(fields.Nested(UnitReceived))


@blp.post("/returns")
@blp.arguments(ReturnIn)
@blp.response(201, ReturnOut)
@requires_role(Role.INTEGRATOR, Role.GRADER)
def post_return(body):
    """Authorize a return for lines of a known sale; refused with the rule that refused it."""
    lines = [ReturnLineRequest(**line) for line in body.pop("lines")]
    return authorize_return(uow_factory(), policies(), lines=lines, actor=current_actor(), **body)


@blp.get("/returns/<rma>")
@blp.response(200, ReturnOut)
@requires_role(*READ)
def get_one_return(rma):
    """One return with its lines, exchanges and received units."""
    return get_return(uow_factory(), rma)


@blp.post("/returns/<rma>/cancel")
@blp.response(200, ReturnOut)
@requires_role(Role.INTEGRATOR, Role.GRADER)
def post_cancel(rma):
    """Cancel a return before anything arrived; its exchange reservations are released."""
    return cancel_return(uow_factory(), rma=rma, actor=current_actor())


@blp.post("/returns/<rma>/receipts")
@blp.arguments(ReceiptIn)
@blp.response(201, ReceiptOut)
@requires_role(Role.GRADER, Role.INTEGRATOR)
def post_receipt(body, rma):
    """Receive units at a location; each gets a unit id and label and waits in quarantine."""
    units = receive_units(uow_factory(), rma=rma, actor=current_actor(), policies=policies(),
                          **body)
    return {"units": units}


@blp.post("/receipts/blind")
@blp.arguments(BlindReceiptIn)
@blp.response(201, ReceiptOut)
@requires_role(Role.GRADER)
def post_blind_receipt(body):
    """A parcel with no RMA: units are received and flagged for review."""
    return {"units": receive_blind(uow_factory(), actor=current_actor(), **body)}
