"""Rules for the planners' decisions on replenishment suggestions. No framework here."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime

from .errors import Conflict, FieldError, ValidationFailed
from .lifecycles import Lifecycle, table


class SuggestionStatus(enum.StrEnum):
    PROPOSED = "proposed"  # as the run wrote it, waiting for a planner
    EDITED = "edited"  # a planner changed the quantity: waiting for approval
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a newer run for a later date replaced it
    # An admin discarded the run that proposed it: no list or export shows it again.
    DISCARDED = "discarded"


PROPOSED, EDITED, APPROVED, REJECTED, SUPERSEDED, DISCARDED = SuggestionStatus
# The statuses a planner filters by (a discarded suggestion is never listed).
STATUSES = (PROPOSED, EDITED, APPROVED, REJECTED, SUPERSEDED)
SUGGESTIONS = Lifecycle("suggestion", SuggestionStatus, frozenset({PROPOSED}), table({
    PROPOSED: {APPROVED, REJECTED, EDITED, SUPERSEDED, DISCARDED},
    # Back to PROPOSED: a planner reopened the decision before any export served it.
    EDITED: {APPROVED, REJECTED, EDITED, SUPERSEDED, PROPOSED},
    # Approved again with a new quantity, or rejected; an edit would hide the approval.
    APPROVED: {APPROVED, REJECTED, PROPOSED},
    REJECTED: {APPROVED, REJECTED, EDITED, PROPOSED},
    # Discarding the newer run puts back what it replaced, as it was before.
    SUPERSEDED: {PROPOSED, EDITED},
    DISCARDED: set(),
}))
# Forecast runs that may still write suggestions; one at a time.
OPEN_RUNS = ("requested", "running")
# Waiting for a planner: bulk decisions act on these only.
PENDING = (PROPOSED, EDITED)
# Someone has put their name on it: a re-run keeps it, and a second planner must have seen it.
DECIDED = (EDITED, APPROVED, REJECTED)
# A planner may reopen these (back to PROPOSED) until an export has served them.
REOPENABLE = DECIDED
ACTIONS = ("approve", "reject", "edit")
STATUS_AFTER = {"approve": APPROVED, "reject": REJECTED, "edit": EDITED}
# What a planner may decide on: the states a decision's status may follow in SUGGESTIONS,
# bar a superseded one (its way back is its replacement's run being discarded).
DECIDABLE = (PROPOSED, EDITED, APPROVED, REJECTED)
# Why SUGGESTIONS refuses a decision, by the status it is refused in.
REFUSED_BECAUSE = {
    SUPERSEDED: "was replaced by a newer forecast run; decide on the current one",
    DISCARDED: "belongs to a discarded forecast run; decide on the current one",
    APPROVED: "is already approved; approve it again with the new quantity, or reject it",
}

# The order-up-to arithmetic in plain words, for the suggestion page.
TERM_MEANINGS = {
    "protection_weeks": "Weeks this order must cover: the supplier's lead time plus the time "
                        "until the next review.",
    "gross_demand": "Units customers are forecast to buy over those weeks.",
    "expected_returns": "Units expected back from customers over those weeks and fit to sell "
                        "again; they lower what we need to buy.",
    "service_level": "The target's level: for a cycle-service target the share of weeks we aim "
                     "to have the size on the shelf when asked for; for a fill-rate target the "
                     "share of demand we aim to serve from stock.",
    "service_target": "What the category aims for: cycle service, fill rate, or the cost "
                      "trade-off between holding stock and running short.",
    "policy": "order_up_to: order back up to a level every review; rQ: the supplier charges "
              "per order, so whole lots are ordered when stock falls to the reorder point.",
    "order_lot": "Lot size of an (r,Q) order, from the order cost against the holding cost, "
                 "rounded to the case pack and minimum (0 for order-up-to).",
    "units_still_out": "Units sold within the return window and not back yet: the known "
                       "returns pipeline.",
    "returns_from_past_sales": "Of those (and returns on their way or awaiting grading), the "
                               "units expected back fit to sell within the protection weeks.",
    "safety_stock_method": "How the safety stock was worked out.",
    "sigma_window": "Spread of demand over the protection weeks (units): how far the "
                    "forecast may miss.",
    "safety_stock": "Extra units held so the service level is met when demand runs high.",
    "order_up_to": "Units we want available: demand minus returns plus safety stock (under "
                   "(r,Q), the reorder point).",
    "on_hand": "Sellable units in stock now.",
    "reserved": "Units already promised (e.g. to exchanges) and not free to sell.",
    "on_order": "Units on open purchase orders and returns on their way.",
    "inventory_position": "On hand minus reserved plus on order: what we have or will have.",
    "raw_order": "Order-up-to minus inventory position, before packs and minimums.",
    "order_qty": "The suggested order after case packs and the minimum order quantity.",
    "moq_applied": "1 if the order was raised to the minimum order quantity, -1 if it was "
                   "dropped for being far below it, 0 if the minimum did not matter.",
    "blind_safety_stock": "Safety stock if we ignored returns.",
    "blind_order_up_to": "Order-up-to if we ignored returns.",
    "blind_order_qty": "What we would order if we ignored returns; the difference to the "
                       "suggested order is what returns save.",
}


@dataclass(frozen=True)
class CasePackQuantity:
    """A quantity as the supplier ships it: whole cases, never fewer units than asked for."""

    requested: int
    quantity: int
    case_pack: int

    @property
    def cases(self) -> int:
        return self.quantity // self.case_pack

    @property
    def rounded_up(self) -> bool:
        return self.quantity != self.requested

    def note(self) -> str:
        if not self.rounded_up:
            return f"{self.quantity} units = {self.cases} cases of {self.case_pack}"
        return (f"{self.requested} units rounded up to {self.quantity} "
                f"({self.cases} cases of {self.case_pack})")


def in_case_packs(requested: int, case_pack: int | None) -> CasePackQuantity:
    pack = max(1, case_pack or 1)
    return CasePackQuantity(requested, math.ceil(requested / pack) * pack, pack)


@dataclass(frozen=True)
class Seen:
    """What a planner is deciding on: the suggestion as it stands in the database."""

    id: int
    status: str
    version: int
    decided_by: str | None
    decided_at: datetime | None


def check_decision(current: Seen, action: str, expected_version: int | None) -> None:
    """Refuse a decision that would overwrite one its maker has not seen, or make no sense."""
    if action not in ACTIONS:
        raise ValidationFailed(f"unknown action {action!r}",
                               errors=[FieldError("action", "approve, reject or edit")])
    if current.status not in DECIDABLE or not SUGGESTIONS.allows(current.status,
                                                                  STATUS_AFTER[action]):
        why = REFUSED_BECAUSE[SuggestionStatus(current.status)]
        raise Conflict(f"suggestion {current.id} {why}",
                       suggestion_status=current.status, current_version=current.version)
    stale = expected_version is not None and expected_version != current.version
    unseen = current.status in DECIDED and expected_version is None
    if stale or unseen:
        raise decided_elsewhere(current)


def decided_elsewhere(current: Seen) -> Conflict:
    who = current.decided_by or "someone"
    when = current.decided_at.isoformat() if current.decided_at else "earlier"
    return Conflict(
        f"suggestion {current.id} was {current.status} by {who} at {when} (version "
        f"{current.version}); reload it and send that version to decide again",
        suggestion_status=current.status, current_version=current.version,
        decided_by=current.decided_by,
        decided_at=current.decided_at.isoformat() if current.decided_at else None,
    )


# No order line is anywhere near this; the quantity column is 32-bit.
MAX_ORDER_QUANTITY = 10_000_000


def decision_quantity(action: str, requested: int | None, approved_qty: int | None,
                      suggested_qty: int, case_pack: int | None) -> CasePackQuantity | None:
    """The units a decision commits to, in whole cases; None for a rejection."""
    if action == "reject":
        if requested is not None:
            raise ValidationFailed("a rejection takes no quantity",
                                   errors=[FieldError("quantity", "leave it out to reject")])
        return None
    if action == "edit" and requested is None:
        raise ValidationFailed("an edit needs the new quantity",
                               errors=[FieldError("quantity", "required to edit")])
    units = requested if requested is not None else (
        approved_qty if approved_qty is not None else suggested_qty)
    if units is None or units < 1:
        raise ValidationFailed("there is nothing to order: give a quantity or reject it",
                               errors=[FieldError("quantity", "at least 1 unit")])
    packed = in_case_packs(units, case_pack)
    if packed.quantity > MAX_ORDER_QUANTITY:
        # Checked after rounding: whole cases of a number near the limit pass it.
        raise ValidationFailed(
            f"{packed.quantity} units is more than one order line may hold "
            f"({MAX_ORDER_QUANTITY})",
            errors=[FieldError("quantity", f"at most {MAX_ORDER_QUANTITY} in whole cases")])
    return packed
