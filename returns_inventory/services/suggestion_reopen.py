"""Undoing planners' decisions before the ERP has them, and saying what a bulk decision will
touch before it is made."""

from __future__ import annotations

from typing import Any

from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..domain.replenishment import PENDING, PROPOSED, REOPENABLE, SUGGESTIONS
from ..persistence.uow import UowFactory
from .suggestion_decisions import BULK_LIMIT
from .suggestions import suggestion_filter


def preview_bulk(uow_factory: UowFactory, *, action: str, filters: dict[str, Any]) -> dict:
    """How many lines and units a bulk approve, reject or reopen would touch, before it is
    confirmed (units: the planner's quantity where there is one, else the suggested)."""
    with uow_factory() as uow:
        where = suggestion_filter(uow, filters)
        if where is None:
            return {"action": action, "matched": 0, "lines": 0, "units": 0}
        matched = uow.suggestions.count(where)
        if action == "reopen":
            rows = uow.suggestions.reopenable(where, REOPENABLE)
            touched = {"lines": len(rows),
                       "units": sum(r["approved_qty"] or 0 for r in rows)}
        else:
            touched = uow.suggestions.pending_units(where, PENDING)
    return {"action": action, "matched": matched, **touched}


def reopen_suggestions(uow_factory: UowFactory, *, actor: str, filters: dict[str, Any],
                       comment: str | None = None,
                       expected_version: int | None = None) -> dict:
    """Put matching decided suggestions back to proposed, if no export has served them yet.

    Each reopen is a decision on the record and a `replenishment.reopened` event, so the ERP
    can drop an approval it has not acted on. With `expected_version` (one suggestion by
    id), a decision the planner has not seen is refused rather than undone."""
    with uow_factory() as uow:
        where = suggestion_filter(uow, filters)
        if where is None:
            return {"matched": 0, "reopened": 0, "skipped": 0}
        matched = uow.suggestions.count(where)
        if matched > BULK_LIMIT:
            raise ValidationFailed(
                f"the filter matches {matched} suggestions; a bulk reopen takes at most "
                f"{BULK_LIMIT}: narrow the filter", errors=[FieldError("filter", "too many")])
        rows = uow.suggestions.reopenable(where, REOPENABLE)
        if expected_version is not None:
            _check_one(uow, filters, rows, expected_version)
        for row in rows:
            SUGGESTIONS.check(row["status"], PROPOSED, name=str(row["id"]))
        reopened = uow.suggestions.reopen_many(rows)
        if reopened != len(rows):
            raise Conflict("a suggestion changed while it was being reopened; reload and "
                           "try again")
        uow.suggestions.add_decisions([
            {"suggestion_id": r["id"], "action": "reopen", "quantity": None,
             "comment": comment, "from_version": r["version"], "actor": actor}
            for r in rows])
        for row in rows:
            uow.events.add("replenishment.reopened", {
                "suggestion_id": row["id"], "run_id": row["run_id"],
                "as_of": row["as_of"].isoformat(), "sku": row["sku"], "size": row["size"],
                "location": row["location"], "supplier": row["supplier"],
                "was": row["status"], "version": row["version"] + 1}, actor=actor)
        uow.commit()
    return {"matched": matched, "reopened": len(rows), "skipped": matched - len(rows)}


def _check_one(uow, filters: dict, rows: list[dict], expected_version: int) -> None:
    suggestion_id = (filters.get("ids") or [None])[0]
    current = uow.suggestions.one(suggestion_id) if suggestion_id else None
    if current is None:
        raise NotFound(f"no suggestion {suggestion_id}")
    if current["version"] != expected_version:
        raise Conflict(f"suggestion {suggestion_id} changed since it was shown (now version "
                       f"{current['version']}); reload it and reopen again if needed",
                       suggestion_status=current["status"],
                       current_version=current["version"])
    if not rows:
        why = ("the approved-orders export has already served it to the ERP"
               if current["exported_at"] else f"it is {current['status']}, not decided")
        raise Conflict(f"suggestion {suggestion_id} cannot be reopened: {why}",
                       suggestion_status=current["status"],
                       current_version=current["version"])
