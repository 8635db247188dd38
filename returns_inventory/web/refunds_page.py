"""Refunds for planners and admins: what is owed to customers, the overdue ones flagged."""

from __future__ import annotations

from flask import render_template, request

from ..domain.access import Role
from ..extensions import policies, uow_factory
from ..http.auth import requires_role
from ..services.refunds import list_refunds, overdue_count
from .pages import page_blueprint

bp = page_blueprint("planner_refunds", __name__, url_prefix="/planner/refunds")

SHOWN = 500
STATUSES = {"due": "Due", "overdue": "Overdue", "paid": "Paid"}


@bp.get("")
@requires_role(Role.PLANNER)
def refunds_page():
    """Refunds owed (overdue ones flagged), or the paid ones."""
    status = request.args.get("status", "due")
    if status not in STATUSES:
        status = "due"
    today = policies().returns.today()
    shown = list_refunds(uow_factory(), status=status, today=today, limit=SHOWN, after=None)
    return render_template("planner/refunds.html", refunds=shown, status=status,
                           statuses=STATUSES, today=today,
                           overdue=overdue_count(uow_factory(), today=today))
