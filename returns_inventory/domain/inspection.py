"""What inspection decides for the customer: accept, deduct or refuse, and the money of it."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .errors import FieldError, ValidationFailed
from .grading import Grade

ZERO = Decimal("0")


class Outcome(enum.StrEnum):
    ACCEPT = "accept"
    DEDUCT = "deduct"  # accepted with deductions
    REFUSE = "refuse"  # sent back to the customer, nothing refunded for it


class RefundTiming(enum.StrEnum):
    ON_RECEIPT = "on_receipt"
    ON_INSPECTION = "on_inspection"


class RefundMethod(enum.StrEnum):
    ORIGINAL_PAYMENT = "original_payment"
    STORE_CREDIT = "store_credit"
    GIFT_CARD = "gift_card"


@dataclass(frozen=True)
class DeductionRule:
    """A named deduction: a percentage of the unit price or a fixed amount."""

    code: str
    label: str
    percent: Decimal | None = None
    amount: Decimal | None = None

    def of(self, unit_price: Decimal) -> Decimal:
        if self.percent is not None:
            return unit_price * self.percent / 100
        return self.amount or ZERO


@dataclass(frozen=True)
class OutcomeRule:
    name: str
    outcome: Outcome
    quality: bool | None = None  # None: any reason
    grades: frozenset[Grade] = frozenset(Grade)
    defects_any: frozenset[str] = frozenset()
    failed_any: frozenset[str] = frozenset()
    # True: only failed conditions the customer had declared met count (a misdeclaration);
    # False: only those the customer had said were not met; None: either.
    declared_met: bool | None = None
    deductions: tuple[str, ...] = ()


@dataclass(frozen=True)
class InspectionDecision:
    outcome: Outcome
    rule: str
    deductions: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()  # conditions found not met


@dataclass(frozen=True)
class Deduction:
    code: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class ChannelTerms:
    timing: RefundTiming
    method: RefundMethod
    within_days: int


@dataclass(frozen=True)
class InspectionPolicy:
    rules: tuple[OutcomeRule, ...] = ()
    condition_defects: dict[str, frozenset[str]] = field(default_factory=dict)
    deductions: dict[str, DeductionRule] = field(default_factory=dict)
    timing: dict[str, RefundTiming] = field(default_factory=dict)
    method: dict[str, RefundMethod] = field(default_factory=dict)
    within_days: dict[str, int] = field(default_factory=dict)
    # Without a [refunds] section an install keeps what it did before: refunds on receipt.
    default_timing: RefundTiming = RefundTiming.ON_RECEIPT
    minor_unit: Decimal = Decimal("0.01")
    outbound_shipping_quality: Decimal = ZERO
    return_shipping: Decimal = ZERO
    inspected_event: str = "per_return"
    messages: dict[str, str] = field(default_factory=dict)
    language: str = "en"

    @classmethod
    def from_config(cls, grading: dict[str, Any], returns: dict[str, Any]) -> InspectionPolicy:
        refunds = returns.get("refunds", {})
        messages = dict(refunds.get("messages", {}))
        deductions = {code: _deduction(code, d)
                      for code, d in refunds.get("deductions", {}).items()}
        rules = tuple(_rule(r, deductions) for r in grading.get("outcomes", []))
        timing = {k: RefundTiming(v) for k, v in _per_channel(refunds.get("timing")).items()}
        default = RefundTiming.ON_INSPECTION if refunds else RefundTiming.ON_RECEIPT
        event = refunds.get("inspected_event", "per_return")
        if event not in {"per_return", "per_unit"}:
            raise ValueError(f"[refunds] inspected_event must be per_return or per_unit, "
                             f"not {event!r}")
        return cls(
            rules=rules,
            condition_defects={k: frozenset(v)
                               for k, v in grading.get("condition_defects", {}).items()},
            deductions=deductions,
            timing=timing,
            method={k: RefundMethod(v) for k, v in _per_channel(refunds.get("method")).items()},
            within_days={k: int(v) for k, v in _per_channel(refunds.get("within_days")).items()},
            default_timing=default,
            minor_unit=_money(refunds.get("minor_unit", "0.01")),
            outbound_shipping_quality=_money(refunds.get("outbound_shipping_quality", "0")),
            return_shipping=_money(refunds.get("return_shipping", "0")),
            inspected_event=event,
            language=messages.pop("language", "en"),
            messages=messages,
        )

    def terms(self, channel: str) -> ChannelTerms:
        """When, how and how fast a sale of this channel is refunded."""
        return ChannelTerms(
            self.timing.get(channel, self.default_timing),
            self.method.get(channel, RefundMethod.ORIGINAL_PAYMENT),
            self.within_days.get(channel, 14),
        )

    def failed_conditions(self, defects: Iterable[str]) -> tuple[str, ...]:
        ticked = set(defects)
        return tuple(sorted(c for c, ds in self.condition_defects.items() if ds & ticked))

    def decide(self, *, quality: bool, grade: Grade, defects: list[str],
               declared: Iterable[str] | None = None) -> InspectionDecision:
        """The first rule that matches this unit; none accepts it in full.

        `declared` is what the customer said was met (tags_on, unworn, ...); None when the
        return predates the declaration, which then counts as every condition declared met."""
        ticked, failed = set(defects), self.failed_conditions(defects)
        said = set(self.condition_defects) if declared is None else set(declared)
        for rule in self.rules:
            if rule.quality is not None and rule.quality != quality:
                continue
            if grade not in rule.grades:
                continue
            if rule.defects_any and not rule.defects_any & ticked:
                continue
            counted = set(failed)
            if rule.declared_met is not None:
                counted = counted & said if rule.declared_met else counted - said
            if rule.failed_any and not rule.failed_any & counted:
                continue
            if quality and rule.outcome is Outcome.REFUSE:
                continue  # the policy: a quality return is never sent back
            return InspectionDecision(rule.outcome, rule.name, rule.deductions, failed)
        return InspectionDecision(Outcome.ACCEPT, "meets the return policy", (), failed)

    def check_override(self, outcome: str, deductions: list[str], *, quality: bool
                       ) -> tuple[Outcome, tuple[str, ...]]:
        """An admin's outcome, checked as the rules are: known deductions, no refused quality."""
        try:
            chosen = Outcome(outcome)
        except ValueError:
            raise ValidationFailed(f"unknown outcome {outcome!r}", errors=[
                FieldError("outcome", "one of accept, deduct, refuse")]) from None
        unknown = [d for d in deductions if d not in self.deductions]
        if unknown:
            raise ValidationFailed(f"unknown deductions: {', '.join(unknown)}", errors=[
                FieldError("deductions", f"unknown code {d!r}") for d in unknown])
        if chosen is Outcome.DEDUCT and not deductions:
            raise ValidationFailed("a deduct outcome names its deductions",
                                   errors=[FieldError("deductions", "at least one")])
        if chosen is not Outcome.DEDUCT and deductions:
            raise ValidationFailed("only a deduct outcome has deductions",
                                   errors=[FieldError("deductions", "only with deduct")])
        if chosen is Outcome.REFUSE and quality:
            raise ValidationFailed("a quality return cannot be refused",
                                   errors=[FieldError("outcome", "quality reason: not refuse")])
        return chosen, tuple(deductions)

    def round(self, amount: Decimal) -> Decimal:
        return Decimal(amount).quantize(self.minor_unit, rounding=ROUND_HALF_UP)

    def unit_deductions(self, unit_price: Decimal, codes: Iterable[str]) -> list[Deduction]:
        """Each named deduction on one unit, rounded, never taking more than is left."""
        left = self.round(unit_price)
        taken: list[Deduction] = []
        for code in codes:
            rule = self.deductions[code]
            amount = min(self.round(rule.of(Decimal(unit_price))), left)
            left -= amount
            taken.append(Deduction(code, rule.label, amount))
        return taken

    def message(self, outcome: str, **words: Any) -> str:
        template = self.messages.get(outcome, "")
        return template.format_map(_Words(words))


@dataclass(frozen=True)
class RefundFigures:
    """One return line's refund: what its units are worth and what comes off."""

    units: int
    unit_price: Decimal
    goods: Decimal
    shipping_refund: Decimal
    deductions: tuple[Deduction, ...]
    total: Decimal


def refund_figures(policy: InspectionPolicy, *, unit_price: Decimal,
                   unit_deductions: list[list[Deduction]], shipping_refund: Decimal = ZERO,
                   return_shipping: Decimal = ZERO) -> RefundFigures:
    """The line's refund from its refunded units' deductions; never below zero.

    Deductions of the same name on several units are shown as one, summed; return shipping
    comes off last, and only as much of it as the line has left.
    """
    units = len(unit_deductions)
    goods = policy.round(Decimal(unit_price) * units)
    summed: dict[str, Deduction] = {}
    for per_unit in unit_deductions:
        for d in per_unit:
            before = summed.get(d.code)
            summed[d.code] = Deduction(d.code, d.label, d.amount + (before.amount if before
                                                                   else ZERO))
    shipping_refund = policy.round(shipping_refund)
    left = goods + shipping_refund - sum((d.amount for d in summed.values()), ZERO)
    shown = [d for d in summed.values() if d.amount > 0]
    if return_shipping > 0 and left > 0:
        taken = min(policy.round(return_shipping), left)
        shown.append(Deduction("return_shipping", "Return shipping", taken))
        left -= taken
    return RefundFigures(units, policy.round(unit_price), goods, shipping_refund,
                         tuple(shown), max(left, ZERO))


class _Words(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _per_channel(value: Any) -> dict[str, Any]:
    return dict(value or {})


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


def _deduction(code: str, doc: dict[str, Any]) -> DeductionRule:
    if ("percent" in doc) == ("amount" in doc):
        raise ValueError(f"deduction {code!r} needs either a percent or an amount")
    return DeductionRule(code, doc.get("label", code),
                         percent=_money(doc["percent"]) if "percent" in doc else None,
                         amount=_money(doc["amount"]) if "amount" in doc else None)


def _rule(doc: dict[str, Any], deductions: dict[str, DeductionRule]) -> OutcomeRule:
    outcome = Outcome(doc["outcome"])
    codes = tuple(doc.get("deductions", []))
    missing = [c for c in codes if c not in deductions]
    if missing:
        raise ValueError(f"outcome rule {doc['name']!r} names unknown deductions {missing}; "
                         "add them to [refunds.deductions] in returns_policy.toml")
    return OutcomeRule(
        name=doc["name"],
        outcome=outcome,
        quality=doc.get("quality"),
        grades=frozenset(Grade(g) for g in doc.get("grades", list(Grade))),
        defects_any=frozenset(doc.get("defects_any", [])),
        failed_any=frozenset(doc.get("failed_any", [])),
        declared_met=doc.get("declared_met"),
        deductions=codes,
    )
