"""Grading a returned unit, and where each disposition puts it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .errors import Conflict, FieldError, ValidationFailed
from .lifecycles import Lifecycle, table
from .stock import Condition, MovementType


class Grade(enum.StrEnum):
    A = "A"  # resell as new
    B = "B"  # second quality / outlet
    C = "C"  # repair
    D = "D"  # write-off


class Disposition(enum.StrEnum):
    RESTOCK_SELLABLE = "restock_sellable"
    RESTOCK_SECOND_QUALITY = "restock_second_quality"
    REPAIR = "repair"
    WRITE_OFF = "write_off"
    RETURN_TO_VENDOR = "return_to_vendor"
    # Inspection refused the return: the unit goes back to the customer, unrefunded.
    RETURN_TO_CUSTOMER = "return_to_customer"


# What a repaired unit can come back as: a grade it is restocked at, or scrapped.
REPAIR_OUTCOMES = {
    Grade.A.value: Disposition.RESTOCK_SELLABLE,
    Grade.B.value: Disposition.RESTOCK_SECOND_QUALITY,
    "scrap": Disposition.WRITE_OFF,
}


class WriteOffStatus(enum.StrEnum):
    PENDING_APPROVAL = "pending_approval"  # costly: waits in quarantine for an admin
    POSTED = "posted"  # a loss at its cost
    REJECTED = "rejected"  # an admin sent the unit back to grading
    SUPERSEDED = "superseded"  # a re-grade came before the admin
    REVERSED = "reversed"  # a re-grade found the unit was no loss after all


_W = WriteOffStatus
WRITE_OFFS = Lifecycle("write-off", WriteOffStatus, frozenset({_W.PENDING_APPROVAL, _W.POSTED}),
                       table({
                           _W.PENDING_APPROVAL: {_W.POSTED, _W.REJECTED, _W.SUPERSEDED},
                           _W.POSTED: {_W.REVERSED},
                           _W.REJECTED: set(),
                           _W.SUPERSEDED: set(),
                           _W.REVERSED: set(),
                       }))


class UnitStatus(enum.StrEnum):
    AWAITING_GRADING = "awaiting_grading"
    RESTOCKED = "restocked"
    SECOND_QUALITY = "second_quality"
    IN_REPAIR = "in_repair"
    PENDING_WRITE_OFF = "pending_write_off"
    WRITTEN_OFF = "written_off"
    RETURNED_TO_VENDOR = "returned_to_vendor"
    RETURNED_TO_CUSTOMER = "returned_to_customer"


# Where a unit sits in stock after each disposition; None means it has left our stock.
CONDITION_AFTER: dict[Disposition, Condition | None] = {
    Disposition.RESTOCK_SELLABLE: Condition.SELLABLE,
    Disposition.RESTOCK_SECOND_QUALITY: Condition.SECOND_QUALITY,
    Disposition.REPAIR: Condition.REPAIR,
    Disposition.WRITE_OFF: None,
    Disposition.RETURN_TO_VENDOR: None,
    Disposition.RETURN_TO_CUSTOMER: None,
}

STATUS_AFTER: dict[Disposition, UnitStatus] = {
    Disposition.RESTOCK_SELLABLE: UnitStatus.RESTOCKED,
    Disposition.RESTOCK_SECOND_QUALITY: UnitStatus.SECOND_QUALITY,
    Disposition.REPAIR: UnitStatus.IN_REPAIR,
    Disposition.WRITE_OFF: UnitStatus.WRITTEN_OFF,
    Disposition.RETURN_TO_VENDOR: UnitStatus.RETURNED_TO_VENDOR,
    Disposition.RETURN_TO_CUSTOMER: UnitStatus.RETURNED_TO_CUSTOMER,
}

RESTOCKING = {Disposition.RESTOCK_SELLABLE, Disposition.RESTOCK_SECOND_QUALITY}


class AlreadyGraded(Conflict):
    title = "Unit already graded"


@dataclass(frozen=True)
class GradingRule:
    name: str
    disposition: Disposition
    grades: frozenset[Grade] = frozenset(Grade)
    defects_any: frozenset[str] = frozenset()
    within_supplier_claim_window: bool = False


@dataclass(frozen=True)
class GradingDecision:
    disposition: Disposition
    rule: str
    where_to_put: str


@dataclass(frozen=True)
class GradingPolicy:
    dispositions: dict[Grade, Disposition]
    defects: dict[str, str]
    rules: tuple[GradingRule, ...] = ()
    claim_days_default: int = 180
    claim_days_by_supplier: dict[str, int] = field(default_factory=dict)
    where_to_put: dict[str, str] = field(default_factory=dict)
    photo_max_bytes: int = 5_242_880
    photo_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/webp")
    photo_max_per_request: int = 6
    photo_max_per_unit: int = 12
    # How long a grader may undo their own last grade (config/grading.toml `undo_window`).
    undo_window_seconds: int = 120
    # What each defect code means, shown at the bench ([defect_help]).
    defect_help: dict[str, str] = field(default_factory=dict)
    # Hosts the bench may show item pictures from, besides this site ([item_images]).
    image_hosts: tuple[str, ...] = ()

    @property
    def photo_upload_bytes(self) -> int:
        """The largest body one photo upload may need: as many of the largest accepted photos
        as one upload may carry, and room for the form's text fields around them."""
        return self.photo_max_bytes * self.photo_max_per_request + 64 * 1024

    @classmethod
    def from_config(cls, doc: dict[str, Any]) -> GradingPolicy:
        claims = doc.get("supplier_claims", {})
        photos = doc.get("photos", {})
        return cls(
            dispositions={
                Grade(g): Disposition(v["disposition"]) for g, v in doc.get("grades", {}).items()
            },
            defects=dict(doc.get("defects", {})),
            rules=tuple(
                GradingRule(
                    name=r["name"],
                    disposition=Disposition(r["disposition"]),
                    grades=frozenset(Grade(g) for g in r.get("grades", list(Grade))),
                    defects_any=frozenset(r.get("defects_any", [])),
                    within_supplier_claim_window=bool(r.get("within_supplier_claim_window")),
                )
                for r in doc.get("rules", [])
            ),
            claim_days_default=int(claims.get("default_days", 180)),
            claim_days_by_supplier={k: int(v) for k, v in claims.get("by_supplier", {}).items()},
            where_to_put=dict(doc.get("where_to_put", {})),
            photo_max_bytes=int(photos.get("max_bytes", 5_242_880)),
            photo_types=tuple(photos.get("types", cls.photo_types)),
            photo_max_per_request=int(photos.get("max_per_request", cls.photo_max_per_request)),
            photo_max_per_unit=int(photos.get("max_per_unit", cls.photo_max_per_unit)),
            undo_window_seconds=int(doc.get("undo_window", cls.undo_window_seconds)),
            defect_help=dict(doc.get("defect_help", {})),
            image_hosts=tuple(h.lower() for h in
                              doc.get("item_images", {}).get("allowed_hosts", [])),
        )

    def grade_of(self, value: str) -> Grade:
        try:
            return Grade(value)
        except ValueError:
            raise ValidationFailed(
                f"unknown grade {value!r}", errors=[FieldError("grade", "one of A, B, C, D")]
            ) from None

    def check_defects(self, defects: list[str]) -> list[str]:
        unknown = [d for d in defects if d not in self.defects]
        if unknown:
            raise ValidationFailed(
                f"unknown defect codes: {', '.join(unknown)}",
                errors=[FieldError("defects", f"unknown code {d!r}") for d in unknown],
            )
        return sorted(set(defects))

    def within_claim_window(self, supplier: str | None, sold_on: date | None, today: date) -> bool:
        ends = self.claim_window_ends(supplier, sold_on)
        return ends is not None and today <= ends

    def claim_window_ends(self, supplier: str | None, sold_on: date | None) -> date | None:
        """The last day the supplier accepts a claim for a unit sold on `sold_on`."""
        if sold_on is None:
            return None
        days = self.claim_days_by_supplier.get(supplier or "", self.claim_days_default)
        return sold_on + timedelta(days=days)

    def decide(
        self,
        grade: Grade,
        defects: list[str],
        *,
        supplier: str | None,
        sold_on: date | None,
        today: date,
    ) -> GradingDecision:
        """The disposition for this grade and these defects: first matching rule, else grade."""
        ticked = set(defects)
        for rule in self.rules:
            if grade not in rule.grades:
                continue
            if rule.defects_any and not (rule.defects_any & ticked):
                continue
            if rule.within_supplier_claim_window and not self.within_claim_window(
                supplier, sold_on, today
            ):
                continue
            return self._decision(rule.disposition, rule.name)
        return self._decision(self.dispositions[grade], f"grade {grade.value}")

    def where_to_put_after(self, disposition: Disposition, *, awaiting_approval: bool = False
                           ) -> str:
        """What the station tells the grader to do with the unit once this disposition is done.

        A write-off waiting for a supervisor is not done: the unit is kept, and the words for it
        (`write_off_awaiting_approval`) differ from those for one already posted (`write_off`).
        """
        key = f"{disposition.value}_awaiting_approval" if awaiting_approval else disposition.value
        return self.where_to_put.get(key, "")

    def _decision(self, disposition: Disposition, rule: str) -> GradingDecision:
        return GradingDecision(disposition, rule, self.where_to_put_after(disposition))


@dataclass(frozen=True)
class Placement:
    """One leg of moving a unit: which condition, by how much, as what kind of movement."""

    condition: Condition
    quantity: int
    movement_type: MovementType


def placements(
    current: Condition | None,
    target: Condition | None,
    leaving_as: MovementType = MovementType.WRITE_OFF,
) -> list[Placement]:
    """The ledger legs that take one unit from where it sits to where it goes."""
    if current == target:
        return []
    legs: list[Placement] = []
    if current is not None:
        kind = MovementType.TRANSFER if target is not None else leaving_as
        legs.append(Placement(current, -1, kind))
    if target is not None:
        kind = MovementType.TRANSFER if current is not None else MovementType.REVERSAL
        legs.append(Placement(target, +1, kind))
    return legs


@dataclass
class ReturnUnit:
    """One returned piece, from the parcel to its final place."""

    id: int
    unit_code: str
    item_id: int
    location_id: int
    status: UnitStatus
    condition: Condition | None
    return_id: int | None = None
    return_line_id: int | None = None
    grade: Grade | None = None
    disposition: Disposition | None = None
    defects: list[str] = field(default_factory=list)
    blind: bool = False
    flagged_for_review: bool = False

    def ensure_gradable(self) -> None:
        if self.status is not UnitStatus.AWAITING_GRADING:
            raise AlreadyGraded(
                f"unit {self.unit_code} is already graded ({self.status.value}); "
                "a supervisor may re-grade it with a reason",
                unit=self.unit_code,
                unit_status=self.status.value,
            )
