"""Vendor claims: the units a supplier owes us for, from draft to the credit note.

A claim gathers one supplier's units graded `return_to_vendor`. It is drafted (units may
still be added), sent to the supplier, and ends credited (with what the supplier paid, which
may be less than claimed) or rejected. One table says which move is allowed from where.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .errors import Conflict, FieldError, ValidationFailed


class ClaimStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    CREDITED = "credited"
    REJECTED = "rejected"


class ClaimAction(enum.StrEnum):
    SEND = "send"
    CREDIT = "credit"
    REJECT = "reject"


TRANSITIONS: dict[tuple[ClaimStatus, ClaimAction], ClaimStatus] = {
    (ClaimStatus.DRAFT, ClaimAction.SEND): ClaimStatus.SENT,
    (ClaimStatus.SENT, ClaimAction.CREDIT): ClaimStatus.CREDITED,
    (ClaimStatus.SENT, ClaimAction.REJECT): ClaimStatus.REJECTED,
}


class ClaimStateConflict(Conflict):
    title = "Claim not in a state for this"


def next_status(current: ClaimStatus, action: ClaimAction, claim_id: int) -> ClaimStatus:
    """Where `action` takes a claim in `current`, or a 409 saying what is allowed instead."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s is current)
        raise ClaimStateConflict(
            f"claim {claim_id} is {current.value}; it cannot be {action.value}"
            + (f" (it can be: {', '.join(allowed)})" if allowed else " (it is closed)"),
            claim_status=current.value,
        ) from None


def check_credit(amount: Decimal, claimed: Decimal) -> Decimal:
    """A credit is a sum in cents, more than nothing and at most what was claimed."""
    if amount.is_finite() and amount != amount.quantize(Decimal("0.01")):
        # Rounding 12.345 to a credit note's 12.34 would book a sum nobody sent.
        raise ValidationFailed(
            f"a credit is money in cents; {amount} has more than two decimal places",
            errors=[FieldError("amount", "at most 2 decimal places")],
        )
    if amount <= 0 or amount > claimed:
        raise ValidationFailed(
            f"a credit must be more than 0 and at most the claimed {claimed}",
            errors=[FieldError("amount", f"must be > 0 and <= {claimed}")],
        )
    return amount


@dataclass(frozen=True)
class ClaimableUnit:
    """A unit sent to its supplier, what it is worth at cost, and its claim window."""

    unit_id: int
    supplier: str
    value: Decimal
    sold_on: date | None
    window_ends_on: date | None

    def days_left(self, today: date) -> int | None:
        return None if self.window_ends_on is None else (self.window_ends_on - today).days
