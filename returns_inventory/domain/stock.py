"""Stock balances and the ledger rules that every balance change obeys."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from .errors import FieldError, InsufficientStock, ValidationFailed

# The most units one balance can hold: the ledger's columns are 32-bit integers, and no
# warehouse holds two billion of one item; a larger figure is a typing or integration error.
MAX_UNITS = 2**31 - 1


def too_many_units(on_hand: int | None = None, reserved: int | None = None) -> ValidationFailed:
    """The refusal of a balance past MAX_UNITS; the figures it would reach, where known."""
    would = ("" if on_hand is None else
             f"the balance would hold {on_hand} on hand and {reserved} reserved: ")
    return ValidationFailed(
        f"{would}at most {MAX_UNITS} units fit one balance",
        errors=[FieldError("quantity", f"the balance would exceed {MAX_UNITS} units")])


class Condition(enum.StrEnum):
    SELLABLE = "sellable"
    SECOND_QUALITY = "second_quality"
    REPAIR = "repair"
    QUARANTINE = "quarantine"


class MovementType(enum.StrEnum):
    ADJUSTMENT = "adjustment"  # a person corrected a count, with a reason
    SNAPSHOT = "snapshot"  # the ERP's stock snapshot set the balance
    RECEIPT = "receipt"  # goods in (purchase orders, returned units into quarantine)
    SALE = "sale"
    TRANSFER = "transfer"  # condition or location change of the same unit
    RESERVATION = "reservation"  # reserved moved; on hand unchanged
    WRITE_OFF = "write_off"
    RETURN_TO_VENDOR = "return_to_vendor"
    RETURN_TO_CUSTOMER = "return_to_customer"  # refused at inspection, sent back
    REVERSAL = "reversal"  # a supervisor's correction brings a unit back into stock
    SHIPMENT = "shipment"


@dataclass(frozen=True)
class BalanceKey:
    item_id: int
    location_id: int
    condition: Condition


@dataclass
class StockBalance:
    """On hand and reserved units of one item at one location in one condition."""

    item_id: int
    location_id: int
    condition: Condition
    on_hand: int = 0
    reserved: int = 0
    id: int | None = None

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    def apply(self, on_hand_delta: int, reserved_delta: int, *, allow_negative: bool) -> None:
        """Change the balance, refusing any result the warehouse cannot physically have."""
        on_hand = self.on_hand + on_hand_delta
        reserved = self.reserved + reserved_delta
        if on_hand > MAX_UNITS or reserved > MAX_UNITS:
            raise too_many_units(on_hand, reserved)
        if reserved < 0:
            raise InsufficientStock(
                f"cannot release {-reserved_delta} reserved units: only {self.reserved} reserved",
                on_hand=self.on_hand,
                reserved=self.reserved,
            )
        # Only a change that lowers availability is refused: a receipt into a balance that is
        # already short (the location stopped allowing negatives) must still be booked.
        lowers_available = on_hand_delta - reserved_delta < 0
        if not allow_negative and lowers_available and on_hand - reserved < 0:
            raise InsufficientStock(
                f"only {self.available} units available; the change needs "
                f"{-(on_hand_delta - reserved_delta)}",
                on_hand=self.on_hand,
                reserved=self.reserved,
                available=self.available,
            )
        self.on_hand, self.reserved = on_hand, reserved


@dataclass(frozen=True)
class Movement:
    """One ledger line: what changed, why, who did it and which request asked for it."""

    item_id: int
    location_id: int
    condition: Condition
    movement_type: MovementType
    quantity: int = 0
    reserved_delta: int = 0
    reason: str | None = None
    reference: str | None = None
    actor: str = "system"
    idempotency_key: str | None = None
    created_at: datetime | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Callers may pass stored strings; frozen, so coerce through object.__setattr__.
        for name, kind in (("condition", Condition), ("movement_type", MovementType)):
            try:
                object.__setattr__(self, name, kind(getattr(self, name)))
            except ValueError:
                allowed = ", ".join(k.value for k in kind)
                raise ValidationFailed(
                    f"unknown {name} {getattr(self, name)!r}",
                    errors=[FieldError(name, f"one of {allowed}")],
                ) from None
        if self.quantity == 0 and self.reserved_delta == 0:
            raise ValidationFailed(
                "a movement must change on hand or reserved",
                errors=[FieldError("quantity", "must not be zero")],
            )
        if self.movement_type is MovementType.RESERVATION and self.quantity != 0:
            raise ValidationFailed(
                "a reservation moves reserved units only; on hand stays as it is",
                errors=[FieldError("quantity", "must be zero for a reservation")],
            )
        if self.movement_type is MovementType.ADJUSTMENT and not (self.reason or "").strip():
            # An adjustment is a person overruling the count; without a reason nobody can audit it.
            raise ValidationFailed(
                "an adjustment needs a reason", errors=[FieldError("reason", "required")]
            )


@dataclass(frozen=True)
class LedgerMismatch:
    """A balance that does not equal the sum of its movements."""

    balance_id: int
    sku: str
    size: str
    location: str
    condition: str
    on_hand: int
    ledger_on_hand: int
    reserved: int
    ledger_reserved: int

    def describe(self) -> str:
        return (
            f"balance {self.balance_id} ({self.sku} {self.size} @ {self.location}, "
            f"{self.condition}): on_hand {self.on_hand} vs ledger {self.ledger_on_hand}, "
            f"reserved {self.reserved} vs ledger {self.ledger_reserved}"
        )
