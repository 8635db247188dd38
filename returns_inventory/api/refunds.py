"""Refunds the ERP pays, and an admin's override of what inspection decided for a unit."""

from __future__ import annotations

from ..domain.access import Role
from ..extensions import policies, uow_factory
from ..http.auth import current_actor, requires_role
from ..http.schemas import cursor_page
from ..services.inspection import override_outcome
from ..services.refunds import list_refunds, mark_paid
from .blueprint import Blueprint
from .refund_schemas import OverrideIn, PaidIn, RefundOut, RefundPage, RefundQuery, UnitOutcomeOut

blp = Blueprint("refunds", __name__, url_prefix="/api/v1",
                description="Refunds and inspection outcomes")


@blp.get("/refunds")
@blp.arguments(RefundQuery, location="query")
@blp.response(200, RefundPage)
@requires_role(Role.INTEGRATOR, Role.PLANNER)
def get_refunds(args):
    """Refunds by state, oldest first: due (unpaid), overdue (past their date) or paid."""
    rows = list_refunds(uow_factory(), status=args["status"], today=policies().returns.today(),
                        limit=args["limit"], after=args["after"])
    return cursor_page(rows, args["limit"])


@blp.post("/refunds/<int:refund_id>/paid")
@blp.arguments(PaidIn)
@blp.response(200, RefundOut)
@blp.alt_response(409, description="the refund was cancelled (an override replaced it)")
@requires_role(Role.INTEGRATOR)
def post_paid(body, refund_id):
    """The ERP paid the refund; marking it paid again answers it unchanged."""
    return mark_paid(uow_factory(), refund_id=refund_id, actor=current_actor(),
                     payment_ref=(body or {}).get("payment_ref"))


@blp.post("/units/<unit_id:unit_id>/outcome")
@blp.arguments(OverrideIn)
@blp.response(200, UnitOutcomeOut)
@requires_role(Role.ADMIN)
def post_override(body, unit_id):
    """An admin overrides what the customer gets for a unit, with a reason: the line's due
    refund is cancelled and issued again; a paid one is a 409."""
    return override_outcome(uow_factory(), policies(), unit_id=unit_id, actor=current_actor(),
                            **body)
