"""The inspection outcome rules and the refund arithmetic, as config/ states them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from returns_inventory.domain.errors import ValidationFailed
from returns_inventory.domain.grading import Grade
from returns_inventory.domain.inspection import (
    Deduction,
    InspectionPolicy,
    Outcome,
    RefundMethod,
    RefundTiming,
    refund_figures,
)
from returns_inventory.settings import Settings


@pytest.fixture(scope="module")
def policy():
    docs = Settings.load(env={}).policies
    return InspectionPolicy.from_config(docs["grading"], docs["returns_policy"])


def test_a_worn_or_washed_unit_returned_for_a_non_quality_reason_is_refused(policy):
    decided = policy.decide(quality=False, grade=Grade.B, defects=["worn_or_washed"])
    assert (decided.outcome, decided.rule) == (Outcome.REFUSE, "worn or washed")
    assert decided.failed == ("unwashed", "unworn")


def test_a_quality_return_is_never_refused_whatever_was_found(policy):
    decided = policy.decide(quality=True, grade=Grade.D, defects=["worn_or_washed", "odour"])
    assert decided.outcome is Outcome.ACCEPT


def test_missing_tags_on_a_non_quality_return_cost_the_configured_fee(policy):
    decided = policy.decide(quality=False, grade=Grade.A, defects=["missing_tag"])
    assert (decided.outcome, decided.deductions) == (Outcome.DEDUCT, ("missing_tags_fee",))
    [fee] = policy.unit_deductions(Decimal("59.95"), decided.deductions)
    # 10 % of 59.95 is 5.995: rounded half up to the cent.
    assert (fee.code, fee.label, fee.amount) == ("missing_tags_fee", "Missing tags",
                                                 Decimal("6.00"))


def test_a_clean_unit_is_accepted_in_full(policy):
    decided = policy.decide(quality=False, grade=Grade.A, defects=[])
    assert decided.outcome is Outcome.ACCEPT and decided.deductions == ()


def test_a_deduction_never_takes_more_than_the_unit_is_worth(policy):
    [fee] = policy.unit_deductions(Decimal("3.00"), ["restocking_fee"])
    assert fee.amount == Decimal("3.00")


def test_return_shipping_comes_off_once_and_never_below_zero(policy):
    figures = refund_figures(policy, unit_price=Decimal("2.50"), unit_deductions=[[]],
                             return_shipping=Decimal("3.95"))
    assert figures.total == Decimal("0.00")
    assert figures.deductions == (Deduction("return_shipping", "Return shipping",
                                            Decimal("2.50")),)


def test_a_line_sums_its_units_deductions_by_name_and_gives_outbound_shipping_back(policy):
    fee = Deduction("missing_tags_fee", "Missing tags", Decimal("2.00"))
    figures = refund_figures(policy, unit_price=Decimal("19.99"),
                             unit_deductions=[[fee], [], [fee]],
                             shipping_refund=Decimal("4.95"))
    assert figures.goods == Decimal("59.97")
    assert figures.deductions == (Deduction("missing_tags_fee", "Missing tags",
                                            Decimal("4.00")),)
    assert figures.total == Decimal("60.92")


def test_the_shipped_policy_refunds_on_inspection_and_an_old_policy_file_on_receipt(policy):
    assert policy.terms("online").timing is RefundTiming.ON_INSPECTION
    assert policy.terms("store").method is RefundMethod.ORIGINAL_PAYMENT
    old = InspectionPolicy.from_config({}, {"shipping": {}})
    assert old.terms("online").timing is RefundTiming.ON_RECEIPT


def test_an_override_may_not_refuse_a_quality_return_nor_name_unknown_deductions(policy):
    with pytest.raises(ValidationFailed) as refused:
        policy.check_override("refuse", [], quality=True)
    assert refused.value.errors[0].field == "outcome"
    with pytest.raises(ValidationFailed) as unknown:
        policy.check_override("deduct", ["bribe"], quality=False)
    assert unknown.value.errors[0].field == "deductions"
    assert policy.check_override("deduct", ["restocking_fee"], quality=False) == (
        Outcome.DEDUCT, ("restocking_fee",))


def test_a_rule_naming_an_unknown_deduction_fails_at_start_up():
    with pytest.raises(ValueError, match="unknown deductions"):
        InspectionPolicy.from_config(
            {"outcomes": [{"name": "x", "outcome": "deduct", "deductions": ["nope"]}]},
            {"refunds": {}})


def test_the_customer_message_fills_in_the_unit_and_the_money(policy):
    words = policy.message("deduct", sku="TEE", size="M", amount="20.00",
                           deductions="Missing tags 2.50")
    assert words == ("We received your TEE in size M: 20.00 will be refunded after deducting "
                     "Missing tags 2.50.")


def test_a_rule_matches_only_its_grades_and_defects_and_the_first_match_wins():
    policy = InspectionPolicy.from_config(
        {"outcomes": [
            {"name": "damaged by the customer", "quality": False, "grades": ["C", "D"],
             "defects_any": ["tear"], "outcome": "refuse"},
            {"name": "any tear", "defects_any": ["tear"], "outcome": "deduct",
             "deductions": ["repair_fee"]},
        ]},
        {"refunds": {"deductions": {"repair_fee": {"label": "Repair", "amount": "4.00"}}}})
    assert policy.decide(quality=False, grade=Grade.D, defects=["tear"]).rule == (
        "damaged by the customer")
    # Grade B is not among the first rule's grades; the second rule takes it.
    assert policy.decide(quality=False, grade=Grade.B, defects=["tear"]).outcome is (
        Outcome.DEDUCT)
    # A quality return skips the refusal and falls to the next rule that matches.
    assert policy.decide(quality=True, grade=Grade.D, defects=["tear"]).rule == "any tear"
    assert policy.decide(quality=False, grade=Grade.D, defects=["stain"]).outcome is (
        Outcome.ACCEPT)


def test_each_channel_keeps_its_own_refund_terms():
    policy = InspectionPolicy.from_config({}, {"refunds": {
        "timing": {"online": "on_inspection", "store": "on_receipt"},
        "method": {"store": "store_credit"}, "within_days": {"store": 3}}})
    store, online, marketplace = (policy.terms(c) for c in ("store", "online", "marketplace"))
    assert (store.timing, store.method, store.within_days) == (
        RefundTiming.ON_RECEIPT, RefundMethod.STORE_CREDIT, 3)
    assert (online.timing, online.method, online.within_days) == (
        RefundTiming.ON_INSPECTION, RefundMethod.ORIGINAL_PAYMENT, 14)
    # A channel the policy does not name follows the new-install default of a [refunds] file.
    assert marketplace.timing is RefundTiming.ON_INSPECTION


def test_a_deduction_without_exactly_one_of_percent_or_amount_fails_at_start_up():
    with pytest.raises(ValueError, match="either a percent or an amount"):
        InspectionPolicy.from_config({}, {"refunds": {"deductions": {"fee": {"label": "Fee"}}}})


def test_a_rule_may_count_only_the_conditions_the_customer_declared_met():
    policy = InspectionPolicy.from_config(
        {"condition_defects": {"tags_on": ["missing_tag"], "unworn": ["worn_or_washed"]},
         "outcomes": [{"name": "said tags on, tags off", "failed_any": ["tags_on"],
                       "declared_met": True, "outcome": "deduct",
                       "deductions": ["fee"]}]},
        {"refunds": {"deductions": {"fee": {"label": "Fee", "amount": "1.00"}}}})
    said_on = policy.decide(quality=True, grade=Grade.B, defects=["missing_tag"],
                            declared=["tags_on", "unworn"])
    said_off = policy.decide(quality=True, grade=Grade.B, defects=["missing_tag"],
                             declared=["unworn"])
    assert (said_on.outcome, said_off.outcome) == (Outcome.DEDUCT, Outcome.ACCEPT)
    # A return from before declarations counts every condition as declared met.
    assert policy.decide(quality=True, grade=Grade.B, defects=["missing_tag"]).outcome is (
        Outcome.DEDUCT)
