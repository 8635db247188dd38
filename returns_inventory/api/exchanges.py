"""Exchanges: ship, reserve again, or refund instead; list them by state."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.access import Role
from ..domain.returns import EXCHANGES
from ..extensions import policies, uow_factory
from ..http.auth import READ, current_actor, requires_role
from ..http.schemas import CursorInfo, PageSize, StrictSchema, cursor_page
from ..services.exchanges import list_exchanges, refund_instead, reserve_again, ship_exchange
from .blueprint import Blueprint

blp = Blueprint("exchanges", __name__, url_prefix="/api/v1",
                description="Exchange replacements: shipping, reserving again, refunds")


class ShipmentOut(StrictSchema):
    exchange_id = fields.Integer()
    status = fields.String()
    quantity = fields.Integer()
    on_hand = fields.Integer()
    reserved = fields.Integer()


class ExchangeQuery(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(
        EXCHANGES.choices()),
        metadata={"description": "e.g. released (expired) or backordered: exchanges that "
                                 "wait for someone to reserve again or refund"})
    after = fields.Integer(load_default=None)
    limit = PageSize(load_default=100, at_most=1000)


class ExchangeListed(StrictSchema):
    id = fields.Integer()
    rma = fields.String()
    line_no = fields.Integer()
    sku = fields.String()
    size = fields.String()
    location = fields.String(allow_none=True)
    quantity = fields.Integer()
    status = fields.String()
    expires_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()


class ExchangePage(StrictSchema):
    data = fields.List(fields.Nested(ExchangeListed))
    page = fields.Nested(CursorInfo)


class ReservedOut(StrictSchema):
    exchange_id = fields.Integer()
    status = fields.String()
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    quantity = fields.Integer()
    expires_at = fields.String()


class RefundedOut(StrictSchema):
    exchange_id = fields.Integer()
    status = fields.String()
    quantity = fields.Integer()
    refund_due = fields.String(allow_none=True, metadata={
        "description": "the amount announced now as refund.due for units already received"})


@blp.post("/exchanges/<int:exchange_id>/ship")
@blp.response(200, ShipmentOut)
@requires_role(Role.INTEGRATOR, Role.GRADER)
def post_ship(exchange_id):
    """The replacement shipped: its reservation and its stock are consumed."""
    return ship_exchange(uow_factory(), exchange_id=exchange_id, actor=current_actor())


@blp.get("/exchanges")
@blp.arguments(ExchangeQuery, location="query")
@blp.response(200, ExchangePage)
@requires_role(*READ)
def get_exchanges(args):
    """Exchanges in one state, oldest first, e.g. reservations that expired."""
    rows = list_exchanges(uow_factory(), args["status"], limit=args["limit"],
                          after=args["after"])
    return cursor_page(rows, args["limit"])


@blp.post("/exchanges/<int:exchange_id>/reserve")
@blp.response(200, ReservedOut)
@requires_role(Role.INTEGRATOR, Role.GRADER)
def post_reserve_again(exchange_id):
    """Reserve the replacement again after its reservation expired, or for a backorder
    once stock is back; 409 with alternatives while no location has it."""
    return reserve_again(uow_factory(), policies(), exchange_id=exchange_id,
                         actor=current_actor())


@blp.post("/exchanges/<int:exchange_id>/refund")
@blp.response(200, RefundedOut)
@requires_role(Role.INTEGRATOR, Role.GRADER)
def post_refund_instead(exchange_id):
    """Refund the line instead of shipping a replacement: a reservation goes back to stock
    and the units already received (on_receipt) or already judged (on_inspection) are
    announced as refund.due."""
    return refund_instead(uow_factory(), policies(), exchange_id=exchange_id,
                          actor=current_actor())
