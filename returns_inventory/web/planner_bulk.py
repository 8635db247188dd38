"""Bulk decisions and reopening in the planner console: every bulk change is shown first, with
the lines and units it will touch, and made only once the planner confirms."""

from __future__ import annotations

from flask import flash, redirect, render_template, request

from ..domain.access import Role
from ..domain.errors import DomainError, FieldError, ValidationFailed
from ..extensions import policies, uow_factory
from ..http.auth import current_actor, requires_role
from ..services.suggestion_decisions import decide_in_bulk
from ..services.suggestion_reopen import preview_bulk, reopen_suggestions
from .forms import whole_number
from .planner import back_target, back_with_error, bp
from .planner_filters import read_table_state, selected_ids

ACTIONS = ("approve", "reject", "reopen")
SCOPES = ("ticked", "matching")
VERBS = {"approve": "Approve", "reject": "Reject", "reopen": "Reopen"}


@bp.post("/decisions")
@requires_role(Role.PLANNER)
def decide_many():
    """Approve, reject or reopen the ticked rows or every matching row: first say how many
    lines and units that touches, then do it when the planner confirms."""
    action, _, scope = request.form.get("do", "").partition("-")
    try:
        if action not in ACTIONS or scope not in SCOPES:
            raise ValidationFailed("Choose approve, reject or reopen, for the ticked or the "
                                   "matching rows.", errors=[FieldError("do", "unknown")])
        filters = (read_table_state(request.form).filters if scope == "matching"
                   else {"ids": selected_ids(request.form)})
        comment = request.form.get("comment", "").strip() or None
        if request.form.get("confirmed") != "yes":
            preview = preview_bulk(uow_factory(), action=action, filters=filters)
            return render_template(
                "planner/confirm_bulk.html", preview=preview, verb=VERBS[action],
                scope=scope, fields=_carried(), back=back_target(), comment=comment or "")
        if action == "reopen":
            counts = reopen_suggestions(uow_factory(), actor=current_actor(),
                                        filters=filters, comment=comment)
        else:
            counts = decide_in_bulk(uow_factory(), action=action, actor=current_actor(),
                                    filters=filters, comment=comment, policies=policies())
    except DomainError as exc:
        return back_with_error(exc)
    flash(bulk_words(action, counts, scope))
    return redirect(back_target(), code=303)


@bp.post("/suggestions/<bigid:suggestion_id>/reopen")
@requires_role(Role.PLANNER)
def reopen(suggestion_id: int):
    """Reopen one decision the export has not served, at the version the planner saw."""
    try:
        reopen_suggestions(uow_factory(), actor=current_actor(),
                           filters={"ids": [suggestion_id]},
                           comment=request.form.get("comment", "").strip() or None,
                           expected_version=whole_number(request.form.get("version")))
    except DomainError as exc:
        return back_with_error(exc, suggestion_id)
    flash(f"Reopened suggestion {suggestion_id}: it waits for a planner again.")
    return redirect(back_target() + f"#s-{suggestion_id}", code=303)


def _carried() -> list[tuple[str, str]]:
    """The form's fields, to send again with the confirmation (not the confirmation itself)."""
    return [(k, v) for k, v in request.form.items(multi=True)
            if k not in ("confirmed", "comment")]


def bulk_words(action: str, counts: dict, scope: str) -> str:
    which = "matching" if scope == "matching" else "ticked"
    if action == "reopen":
        text = f"Reopened {counts['reopened']} of {counts['matched']} {which} suggestions."
        if counts["skipped"]:
            text += (f" {counts['skipped']} were left alone: not decided, or already served "
                     "to the ERP by the export.")
        return text
    done = "Approved" if action == "approve" else "Rejected"
    text = f"{done} {counts['decided']} of {counts['matched']} {which} suggestions."
    if counts["skipped"]:
        text += (f" {counts['skipped']} were left alone: already decided, or nothing to "
                 "order.")
    if counts["rounded_up"]:
        text += f" {counts['rounded_up']} quantities were rounded up to whole case packs."
    return text
