"""Planners approve, edit or reject suggestions; approvals become orders for the ERP."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..domain.errors import DomainError, FieldError, NotFound, ValidationFailed, present
from ..domain.replenishment import (
    PENDING,
    STATUS_AFTER,
    CasePackQuantity,
    Seen,
    check_decision,
    decided_elsewhere,
    decision_quantity,
    in_case_packs,
)
from ..domain.text import check_note
from ..persistence.uow import UnitOfWork, UowFactory
from .policies import Policies
from .quality_alerts import current_alerts
from .suggestions import suggestion_filter, summary

# A bulk decision is one transaction and one request; past this, ask for a narrower filter
# rather than hold thousands of row locks until a proxy times the request out.
BULK_LIMIT = 5000


def decide_suggestion(uow_factory: UowFactory, suggestion_id: int, *, action: str, actor: str,
                      quantity: int | None = None, comment: str | None = None,
                      expected_version: int | None = None,
                      policies: Policies | None = None) -> dict:
    """Approve, edit or reject one suggestion, refusing to overwrite an unseen decision (and,
    given the policies, an approval the quality alert rule holds back)."""
    check_note(comment, "comment")
    with uow_factory() as uow:
        row = uow.suggestions.one(suggestion_id)
        if row is None:
            raise NotFound(f"no suggestion {suggestion_id}")
        check_decision(_seen(row), action, expected_version)
        packed = decision_quantity(action, quantity, row["approved_qty"], row["suggested_qty"],
                                   row["case_pack"])
        if policies is not None and action == "approve" and packed is not None:
            alerts = current_alerts(uow, policies, policies.returns.today())
            policies.quality_alerts.check_approval(alerts.of(row), packed.quantity,
                                                   row["return_blind_qty"])
        applied = uow.suggestions.decide(
            suggestion_id, seen_version=row["version"], status=STATUS_AFTER[action],
            approved_qty=packed.quantity if packed else None, actor=actor, comment=comment,
            **_ordered_by(row, packed))
        if not applied:
            # Another planner's decision, or a newer run's supersede, committed between our
            # read and our write: say which.
            now = _seen(present(uow.suggestions.one(suggestion_id), "the suggestion"))
            check_decision(now, action, now.version)
            raise decided_elsewhere(now)
        uow.suggestions.add_decisions([_audit(row, action, packed, comment, actor)])
        _announce(uow, row, action, packed, actor)
        after = present(uow.suggestions.one(suggestion_id), "the suggestion")
        uow.commit()
    decision = {"action": action, "quantity": packed.quantity if packed else None,
                "comment": comment, "from_version": row["version"], "actor": actor}
    return {"suggestion": summary(after), "decision": decision,
            "case_pack": _rounding(packed)}


def decide_in_bulk(uow_factory: UowFactory, *, action: str, actor: str, filters: dict[str, Any],
                   comment: str | None = None, policies: Policies | None = None) -> dict:
    """Approve or reject every matching suggestion still waiting for a planner; an approval
    the quality alert rule holds back is skipped, left for a planner to decide alone."""
    check_note(comment, "comment")
    if action not in ("approve", "reject"):
        raise ValidationFailed("bulk decisions approve or reject",
                               errors=[FieldError("action", "approve or reject")])
    with uow_factory() as uow:
        where = suggestion_filter(uow, filters)
        if where is None:
            return _counts(action, matched=0, decided=0, rounded_up=0)
        matched = uow.suggestions.count(where)
        rows = uow.suggestions.pending(where, PENDING) if matched <= BULK_LIMIT else None
        if rows is None:
            raise ValidationFailed(
                f"the filter matches {matched} suggestions; a bulk decision takes at most "
                f"{BULK_LIMIT}: narrow the filter", errors=[FieldError("filter", "too many")])
        decided, audits, rounded = [], [], 0
        allowed = _approval_rule(uow, policies) if action == "approve" and rows else None
        for row in rows:
            packed = None
            if action == "approve":
                wanted = row["approved_qty"] or row["suggested_qty"]
                if not wanted:
                    continue  # nothing to order: leave it for a planner to reject or edit
                packed = in_case_packs(wanted, row["case_pack"])
                if allowed is not None and not allowed(row, packed):
                    continue
                rounded += packed.rounded_up
            decided.append({"id": row["id"], "version": row["version"],
                            "status": STATUS_AFTER[action],
                            "approved_qty": packed.quantity if packed else None,
                            **_ordered_by(row, packed)})
            audits.append(_audit(row, action, packed, comment, actor))
            _announce(uow, row, action, packed, actor)
        uow.suggestions.decide_many(decided, actor=actor, comment=comment)
        uow.suggestions.add_decisions(audits)
        uow.commit()
    return _counts(action, matched=matched, decided=len(decided), rounded_up=rounded)


def _approval_rule(uow: UnitOfWork, policies: Policies | None
                   ) -> Callable[[dict, CasePackQuantity], bool] | None:
    """Whether the quality alert rule lets a bulk approval take a row (None: no rule)."""
    if policies is None:
        return None
    alerts, rule = current_alerts(uow, policies, policies.returns.today()), policies.quality_alerts

    def allowed(row: dict, packed: CasePackQuantity) -> bool:
        try:
            rule.check_approval(alerts.of(row), packed.quantity, row["return_blind_qty"])
        except DomainError:
            return False
        return True

    return allowed


def _counts(action: str, *, matched: int, decided: int, rounded_up: int) -> dict:
    return {"action": action, "matched": matched, "decided": decided,
            "skipped": matched - decided, "rounded_up": rounded_up}


def _ordered_by(row: dict, packed: CasePackQuantity | None) -> dict:
    """The case pack and supplier the decision orders by, kept with it for the export."""
    if packed is None:
        return {"case_pack": None, "supplier": None}
    return {"case_pack": packed.case_pack, "supplier": row["supplier"]}


def _seen(row: dict) -> Seen:
    return Seen(row["id"], row["status"], row["version"], row["decided_by"], row["decided_at"])


def _audit(row: dict, action: str, packed: CasePackQuantity | None, comment: str | None,
           actor: str) -> dict:
    return {"suggestion_id": row["id"], "action": action,
            "quantity": packed.quantity if packed else None, "comment": comment,
            "from_version": row["version"], "actor": actor}


def _announce(uow: UnitOfWork, row: dict, action: str, packed: CasePackQuantity | None,
              actor: str) -> None:
    """Tell the ERP in the same transaction; an edit is not an order yet, so it stays quiet."""
    if action == "edit":
        return
    event = {"suggestion_id": row["id"], "run_id": row["run_id"],
             "as_of": row["as_of"].isoformat(), "sku": row["sku"], "size": row["size"],
             "location": row["location"], "supplier": row["supplier"],
             # The ERP keys the order on suggestion_id; a higher version replaces a lower one.
             "version": row["version"] + 1}
    if action == "reject":
        uow.events.add("replenishment.rejected", {**event, "was": row["status"]}, actor=actor)
        return
    if packed is None:
        raise ValueError("an approval commits to a quantity")
    unit_cost = Decimal(row["unit_cost"])
    uow.events.add("replenishment.approved", {
        **event, "quantity": packed.quantity, "case_pack": packed.case_pack,
        "cases": packed.cases, "unit_cost": str(unit_cost),
        "value": str((unit_cost * packed.quantity).quantize(Decimal("0.01")))}, actor=actor)


def _rounding(packed: CasePackQuantity | None) -> dict | None:
    if packed is None:
        return None
    return {"requested": packed.requested, "quantity": packed.quantity,
            "case_pack": packed.case_pack, "cases": packed.cases,
            "rounded_up": packed.rounded_up, "note": packed.note()}
