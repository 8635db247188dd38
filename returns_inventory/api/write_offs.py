"""Write-offs: the costly ones wait for an admin, who posts them or sends the unit back."""

from __future__ import annotations

from marshmallow import fields, validate

from ..domain.access import Role
from ..domain.grading import WRITE_OFFS, WriteOffStatus
from ..extensions import uow_factory
from ..http.auth import current_actor, requires_role
from ..http.schemas import CursorInfo, PageSize, StrictSchema, cursor_page
from ..services.write_offs import decide_write_off, list_write_offs
from .blueprint import Blueprint
from .units import GradingOut

blp = Blueprint("write_offs", __name__, url_prefix="/api/v1",
                description="Write-offs above the approval threshold")


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


@blp.get("/write-offs")
@blp.arguments(WriteOffQuery, location="query")
@blp.response(200, WriteOffPage)
@requires_role(Role.ADMIN, Role.PLANNER)
def get_write_offs(args):
    """Write-offs by state; by default those above the threshold waiting for an admin."""
    rows = list_write_offs(uow_factory(), args["status"], limit=args["limit"],
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
