"""Exchange shipments and write-off approvals."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..domain.access import Role
from ..extensions import uow_factory
from ..services.exchanges import ship_exchange
from ..services.write_offs import decide_write_off
from .auth import current_actor, requires_role
from .schemas import CursorInfo, StrictSchema
from .units import GradingOut

blp = Blueprint("exchanges", __name__, url_prefix="/api/v1",
                description="Exchanges and write-off approvals")


class ShipmentOut(StrictSchema):
    exchange_id = fields.Integer()
    status = fields.String()
    quantity = fields.Integer()
    on_hand = fields.Integer()
    reserved = fields.Integer()


class WriteOffQuery(StrictSchema):
    status = fields.String(load_default="pending_approval", validate=validate.OneOf(
        ["pending_approval", "posted", "rejected", "superseded", "reversed"]))
    after = fields.Integer(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


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


@blp.get("/write-offs")
@blp.arguments(WriteOffQuery, location="query")
@blp.response(200, WriteOffPage)
@requires_role(Role.ADMIN, Role.PLANNER)
def get_write_offs(args):
    """Write-offs by state; by default those above the threshold waiting for an admin."""
    with uow_factory()() as uow:
        rows = uow.units.write_offs_by_status(args["status"], limit=args["limit"],
                                                after=args["after"])
    cursor = rows[-1]["id"] if len(rows) == args["limit"] else None
    return {"data": rows, "page": {"next_cursor": cursor, "limit": args["limit"]}}


@blp.post("/write-offs/<int:write_off_id>/decision")
@blp.arguments(WriteOffDecisionIn)
@blp.response(200, GradingOut)
@requires_role(Role.ADMIN)
def post_write_off_decision(body, write_off_id):
    """Approve a write-off above the threshold (it posts) or send the unit back to grading."""
    return decide_write_off(uow_factory(), write_off_id=write_off_id, approve=body["approve"],
                            actor=current_actor())
