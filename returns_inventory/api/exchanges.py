"""Exchange shipments and write-off approvals."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.access import Role
from ..domain.grading import WRITE_OFFS, WriteOffStatus
from ..domain.returns import EXCHANGES
from ..extensions import policies, uow_factory
from ..services.exchanges import refund_instead, reserve_again, ship_exchange
from ..services.write_offs import decide_write_off
from .auth import READ, current_actor, requires_role
from .blueprint import Blueprint
from .schemas import CursorInfo, PageSize, StrictSchema, cursor_page
from .units import GradingOut

blp = Blueprint("exchanges", __name__, url_prefix="/api/v1",
                description="Exchanges and write-off approvals")


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


class WriteOffQuery(StrictSchema):
    status = fields.String(load_default=WriteOffStatus.PENDING_APPROVAL.value,
                           validate=validate.OneOf(WRITE_OFFS.choices()))
    after = fields.Integer(load_default=None)
    limit = PageSize(load_default=100, at_most=1000)


class WriteOffOut(StrictSchema):
    id = fields.Integer()
    unit_id = fields.String(attribute="unit_code")
    sku = fields.String()
    size = fields.String()
    location = fields.String()
    value = fields.Decimal(as_string=True)
    reason = fields.String()
    status = fields.String()
    requested_by = fields.String()
    decided_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class WriteOffPage(StrictSchema):
    data = fields.List(fields.Nested(WriteOffOut))
    page = fields.Nested(CursorInfo)


class WriteOffDecisionIn(StrictSchema):
    approve = fields.Boolean(required=True)


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
    with uow_factory()() as uow:
        rows = uow.returns.exchanges_by_status(args["status"], limit=args["limit"],
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


@blp.get("/write-offs")
@blp.arguments(WriteOffQuery, location="query")
@blp.response(200, WriteOffPage)
@requires_role(Role.ADMIN, Role.PLANNER)
def get_write_offs(args):
    """Write-offs by state; by default those above the threshold waiting for an admin."""
    with uow_factory()() as uow:
        rows = uow.units.write_offs_by_status(args["status"], limit=args["limit"],
                                                after=args["after"])
    return cursor_page(rows, args["limit"])


@blp.post("/write-offs/<int:write_off_id>/decision")
@blp.arguments(WriteOffDecisionIn)
@blp.response(200, GradingOut)
@requires_role(Role.ADMIN)
def post_write_off_decision(body, write_off_id):
    """Approve a write-off above the threshold (it posts) or send the unit back to grading."""
    return decide_write_off(uow_factory(), write_off_id=write_off_id, approve=body["approve"],
                            actor=current_actor())
