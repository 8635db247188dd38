"""Refunds for planners and admins: what is owed to customers, the overdue ones flagged."""

from __future__ import annotations

from flask import render_template, request

from ..domain.access import Role
from ..extensions import policies, uow_factory
from ..http.auth import requires_role
from ..services.refunds import list_refunds, overdue_count
from .pages import page_blueprint

bp = page_blueprint("planner_refunds", __name__, url_prefix="/planner/refunds")

# A page of refunds, oldest first; "Next" carries the last id shown (keyset paging).
PAGE_SIZE = 100
STATUSES = {"due": "Due", "overdue": "Overdue", "paid": "Paid"}


@bp.get("")
@requires_role(Role.PLANNER)
def refunds_page():
    """Refunds owed (overdue ones flagged), or the paid ones."""
    status = request.args.get("status", "due")
    if status not in STATUSES:
        status = "due"
    after = request.args.get("after", type=int)
    today = policies().returns.today()
    shown = list_refunds(uow_factory(), status=status, today=today, limit=PAGE_SIZE + 1,
                         after=after if after and after > 0 else None)
    more = len(shown) > PAGE_SIZE
    shown = shown[:PAGE_SIZE]
    return render_template("planner/refunds.html", refunds=shown, status=status,
                           statuses=STATUSES, today=today, first_page=not after,
                           next_after=shown[-1]["id"] if more else None,
                           overdue=overdue_count(uow_factory(), today=today))
