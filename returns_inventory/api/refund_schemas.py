"""Request and response schemas of refunds and inspection outcomes."""

from __future__ import annotations

from marshmallow import fields, validate

from ..http.schemas import CursorInfo, PageSize, StrictSchema


class DeductionOut(StrictSchema):
    code = fields.String(metadata={"description": "e.g. return_shipping, missing_tags_fee"})
    label = fields.String()
    amount = fields.Decimal(as_string=True)


class UnitOutcomeOut(StrictSchema):
    unit_id = fields.String(allow_none=True)
    sku = fields.String()
    size = fields.String()
    outcome = fields.String(metadata={"description": "accept, deduct or refuse"})
    rule = fields.String(metadata={"description": "the outcome rule that decided"})
    deductions = fields.List(fields.Nested(DeductionOut))
    amount = fields.Decimal(as_string=True, metadata={
        "description": "what this unit is refunded after its deductions (0 when refused)"})
    failed_conditions = fields.List(fields.String(), metadata={
        "description": "conditions the inspection found not met (tags_on, unworn, ...)"})
    message = fields.String(metadata={"description": "words the ERP/CRM may send unchanged"})


class RefundQuery(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(["due", "overdue", "paid"]),
                           metadata={"description": "due: every unpaid refund; overdue: those "
                                                    "past their due date; paid"})
    after = fields.Integer(load_default=None)
    limit = PageSize(load_default=100, at_most=1000)


class RefundOut(StrictSchema):
    id = fields.Integer()
    rma = fields.String()
    order_ref = fields.String()
    line_no = fields.Integer()
    line_ref = fields.String()
    sku = fields.String()
    size = fields.String()
    status = fields.String(metadata={"description": "due, paid or cancelled"})
    timing = fields.String(metadata={"description": "on_receipt or on_inspection"})
    units = fields.Integer()
    unit_price = fields.Decimal(as_string=True)
    goods = fields.Decimal(as_string=True, metadata={"description": "units x unit price"})
    shipping_refund = fields.Decimal(as_string=True, metadata={
        "description": "outbound shipping given back for a quality return"})
    deductions = fields.List(fields.Nested(DeductionOut))
    total = fields.Decimal(as_string=True, metadata={"description": "never below zero"})
    method = fields.String(metadata={
        "description": "original_payment, store_credit or gift_card"})
    due_on = fields.Date()
    overdue = fields.Boolean()
    paid_at = fields.DateTime(allow_none=True)
    payment_ref = fields.String(allow_none=True)


class RefundPage(StrictSchema):
    data = fields.List(fields.Nested(RefundOut))
    page = fields.Nested(CursorInfo)


class PaidIn(StrictSchema):
    payment_ref = fields.String(validate=validate.Length(min=1, max=128), metadata={
        "description": "the ERP's reference of the payment"})


class OverrideIn(StrictSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["accept", "deduct",
                                                                     "refuse"]))
    deductions = fields.List(fields.String(validate=validate.Length(min=1, max=32)),
                             load_default=list, validate=validate.Length(max=20))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=255))
