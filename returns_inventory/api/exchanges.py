"""Exchange shipments and write-off approvals."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields

from ..domain.access import Role
from ..extensions import uow_factory
from ..services.exchanges import ship_exchange
from ..services.grading import decide_write_off
from .auth import current_actor, requires_role
from .schemas import StrictSchema
from .units import GradingOut

blp = Blueprint("exchanges", __name__, url_prefix="/api/v1",
                description="Exchanges and write-off approvals")


class ShipmentOut(StrictSchema):
    exchange_id = fields.Integer()
    status = fields.String()
    quantity = fields.Integer()
    on_hand = fields.Integer()
    reserved = fields.Integer()


class WriteOffDecisionIn(StrictSchema):
    approve = fields.Boolean(required=True)


@blp.post("/exchanges/<int:exchange_id>/ship")
@blp.response(200, ShipmentOut)
@requires_role(Role.INTEGRATOR, Role.GRADER)
def post_ship(exchange_id):
    """The replacement shipped: its reservation and its stock are consumed."""
    return ship_exchange(uow_factory(), exchange_id=exchange_id, actor=current_actor())


@blp.post("/write-offs/<int:write_off_id>/decision")
@blp.arguments(WriteOffDecisionIn)
@blp.response(200, GradingOut)
@requires_role(Role.ADMIN)
def post_write_off_decision(body, write_off_id):
    """Approve a write-off above the threshold (it posts) or send the unit back to grading."""
    return decide_write_off(uow_factory(), write_off_id=write_off_id, approve=body["approve"],
                            actor=current_actor())
