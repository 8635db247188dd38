"""Every grading rule and every placement leg, on small hand-built policies.

The claim windows and rules here are the tests' own, so a config edit cannot silently change
what a test means; the last tests check that config/grading.toml parses into these rules.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from pathlib import Path

import pytest

from returns_inventory.domain.errors import ValidationFailed
from returns_inventory.domain.grading import (
    CONDITION_AFTER,
    STATUS_AFTER,
    AlreadyGraded,
    Disposition,
    Grade,
    GradingPolicy,
    GradingRule,
    Placement,
    ReturnUnit,
    UnitStatus,
    placements,
)
from returns_inventory.domain.stock import Condition, MovementType

CONFIG = Path(__file__).resolve().parents[2] / "config" / "grading.toml"
TODAY = date(2026, 6, 30)

DEFAULTS = {
    Grade.A: Disposition.RESTOCK_SELLABLE,
    Grade.B: Disposition.RESTOCK_SECOND_QUALITY,
    Grade.C: Disposition.REPAIR,
    Grade.D: Disposition.WRITE_OFF,
}
VENDOR_CLAIM = GradingRule(
    "vendor claim",
    Disposition.RETURN_TO_VENDOR,
    frozenset({Grade.B, Grade.C, Grade.D}),
    frozenset({"manufacturing_defect"}),
    within_supplier_claim_window=True,
)
NOT_AS_NEW = GradingRule(
    "not as new",
    Disposition.RESTOCK_SECOND_QUALITY,
    frozenset({Grade.A}),
    frozenset({"odour", "worn_or_washed", "missing_tag"}),
)


def policy(**overrides) -> GradingPolicy:
    values = dict(
        dispositions=dict(DEFAULTS),
        defects={
            code: code
            for code in (
                "stain",
                "tear",
                "odour",
                "worn_or_washed",
                "missing_tag",
                "manufacturing_defect",
            )
        },
        rules=(VENDOR_CLAIM, NOT_AS_NEW),
        claim_days_default=100,
        claim_days_by_supplier={"ACME": 200},
        where_to_put={"write_off": "bin", "write_off_awaiting_approval": "cage",
                      "return_to_vendor": "vendor pallet"},
    )
    values.update(overrides)
    return GradingPolicy(**values)


def decide(grade, defects=(), *, supplier="OTHER", days_since_sale=10, p=None):
    sold_on = None if days_since_sale is None else TODAY - timedelta(days=days_since_sale)
    return (p or policy()).decide(
        grade, list(defects), supplier=supplier, sold_on=sold_on, today=TODAY
    )


# --- grades and their default dispositions --------------------------------------------


@pytest.mark.parametrize(("grade", "disposition"), DEFAULTS.items())
def test_each_grade_without_defects_gets_its_default_disposition(grade, disposition):
    decision = decide(grade)
    assert (decision.disposition, decision.rule) == (disposition, f"grade {grade.value}")


def test_the_decision_says_where_to_put_the_unit():
    assert decide(Grade.D).where_to_put == "bin"
    assert decide(Grade.A).where_to_put == ""  # nothing configured: the station shows nothing


def test_a_write_off_waiting_for_approval_is_kept_not_binned():
    p = policy()
    assert p.where_to_put_after(Disposition.WRITE_OFF, awaiting_approval=True) == "cage"
    assert p.where_to_put_after(Disposition.WRITE_OFF) == "bin"


# --- the vendor claim rule ------------------------------------------------------------


@pytest.mark.parametrize("grade", [Grade.B, Grade.C, Grade.D])
def test_a_manufacturing_defect_inside_the_claim_window_goes_back_to_the_vendor(grade):
    decision = decide(grade, ["manufacturing_defect", "stain"], days_since_sale=100)
    assert (decision.disposition, decision.rule) == (Disposition.RETURN_TO_VENDOR, "vendor claim")
    assert decision.where_to_put == "vendor pallet"


@pytest.mark.parametrize("grade", [Grade.B, Grade.C, Grade.D])
def test_a_manufacturing_defect_outside_the_claim_window_gets_the_grade_disposition(grade):
    decision = decide(grade, ["manufacturing_defect"], days_since_sale=101)
    assert (decision.disposition, decision.rule) == (DEFAULTS[grade], f"grade {grade.value}")


def test_a_supplier_with_its_own_claim_window_uses_its_days():
    assert (
        decide(Grade.D, ["manufacturing_defect"], supplier="ACME", days_since_sale=200).disposition
        is Disposition.RETURN_TO_VENDOR
    )
    assert (
        decide(Grade.D, ["manufacturing_defect"], supplier="ACME", days_since_sale=201).disposition
        is Disposition.WRITE_OFF
    )


def test_a_unit_without_a_supplier_uses_the_default_claim_window():
    assert policy().within_claim_window(None, TODAY - timedelta(100), TODAY)
    assert not policy().within_claim_window(None, TODAY - timedelta(101), TODAY)


def test_a_blind_return_without_a_sale_date_is_never_within_the_claim_window():
    decision = decide(Grade.D, ["manufacturing_defect"], days_since_sale=None)
    assert decision.disposition is Disposition.WRITE_OFF


def test_a_grade_A_unit_with_a_manufacturing_defect_is_not_a_vendor_claim():
    assert decide(Grade.A, ["manufacturing_defect"]).rule == "grade A"


def test_a_vendor_claim_needs_the_manufacturing_defect_ticked():
    assert decide(Grade.D, ["tear"]).disposition is Disposition.WRITE_OFF


# --- the "not as new" rule ------------------------------------------------------------


@pytest.mark.parametrize("defect", ["odour", "worn_or_washed", "missing_tag"])
def test_a_grade_A_unit_that_is_not_as_new_goes_to_second_quality(defect):
    decision = decide(Grade.A, [defect])
    assert (decision.disposition, decision.rule) == (
        Disposition.RESTOCK_SECOND_QUALITY,
        "not as new",
    )


def test_a_grade_A_unit_with_another_defect_is_still_sold_as_new():
    assert decide(Grade.A, ["stain"]).disposition is Disposition.RESTOCK_SELLABLE


def test_the_not_as_new_rule_only_concerns_grade_A():
    assert decide(Grade.C, ["odour"]).disposition is Disposition.REPAIR


def test_the_first_matching_rule_decides():
    scrap = GradingRule(
        "scrap smelly", Disposition.WRITE_OFF, frozenset(Grade), frozenset({"odour"})
    )
    assert decide(Grade.A, ["odour"], p=policy(rules=(scrap, NOT_AS_NEW))).rule == "scrap smelly"
    assert decide(Grade.A, ["odour"], p=policy(rules=(NOT_AS_NEW, scrap))).rule == "not as new"


def test_a_rule_without_defects_matches_its_grades_whatever_was_ticked():
    all_c = GradingRule("no repairs", Disposition.WRITE_OFF, frozenset({Grade.C}))
    assert decide(Grade.C, p=policy(rules=(all_c,))).disposition is Disposition.WRITE_OFF


# --- refused input --------------------------------------------------------------------


def test_unknown_defect_codes_are_refused_each_by_name():
    with pytest.raises(ValidationFailed) as failed:
        policy().check_defects(["stain", "glitter", "mould"])
    assert [e.to_dict() for e in failed.value.errors] == [
        {"field": "defects", "reason": "unknown code 'glitter'"},
        {"field": "defects", "reason": "unknown code 'mould'"},
    ]


def test_known_defects_are_deduplicated_and_sorted():
    assert policy().check_defects(["tear", "stain", "tear"]) == ["stain", "tear"]


@pytest.mark.parametrize("grade", ["E", "a", "", "AB"])
def test_an_unknown_grade_is_refused_on_the_grade_field(grade):
    with pytest.raises(ValidationFailed) as failed:
        policy().grade_of(grade)
    assert failed.value.errors[0].field == "grade"


def test_a_unit_that_is_not_awaiting_grading_cannot_be_graded_again():
    unit = ReturnUnit(1, "U1", 10, 20, UnitStatus.AWAITING_GRADING, Condition.QUARANTINE)
    unit.ensure_gradable()
    for status in set(UnitStatus) - {UnitStatus.AWAITING_GRADING}:
        unit.status = status
        with pytest.raises(AlreadyGraded) as refused:
            unit.ensure_gradable()
        assert refused.value.extra == {"unit": "U1", "unit_status": status.value}


# --- placements: the ledger legs of every transition ----------------------------------


def test_from_quarantine_to_a_condition_is_a_transfer_out_and_in():
    assert placements(Condition.QUARANTINE, Condition.SELLABLE) == [
        Placement(Condition.QUARANTINE, -1, MovementType.TRANSFER),
        Placement(Condition.SELLABLE, +1, MovementType.TRANSFER),
    ]


def test_leaving_stock_is_a_write_off_unless_it_goes_to_the_vendor():
    assert placements(Condition.QUARANTINE, None) == [
        Placement(Condition.QUARANTINE, -1, MovementType.WRITE_OFF)
    ]
    assert placements(Condition.QUARANTINE, None, MovementType.RETURN_TO_VENDOR) == [
        Placement(Condition.QUARANTINE, -1, MovementType.RETURN_TO_VENDOR)
    ]


def test_coming_back_into_stock_after_leaving_is_a_reversal():
    assert placements(None, Condition.SECOND_QUALITY) == [
        Placement(Condition.SECOND_QUALITY, +1, MovementType.REVERSAL)
    ]


def test_a_re_grade_between_conditions_transfers_the_unit():
    assert placements(Condition.SELLABLE, Condition.REPAIR) == [
        Placement(Condition.SELLABLE, -1, MovementType.TRANSFER),
        Placement(Condition.REPAIR, +1, MovementType.TRANSFER),
    ]


@pytest.mark.parametrize("condition", [*Condition, None])
def test_staying_where_it_is_posts_no_legs(condition):
    assert placements(condition, condition) == []


def test_every_disposition_has_a_condition_and_a_status():
    assert set(CONDITION_AFTER) == set(Disposition) == set(STATUS_AFTER)
    assert CONDITION_AFTER[Disposition.WRITE_OFF] is None
    assert CONDITION_AFTER[Disposition.RETURN_TO_VENDOR] is None


# --- the real configuration -----------------------------------------------------------


def test_the_real_config_file_parses_into_the_rules_the_business_asked_for():
    real = GradingPolicy.from_config(tomllib.loads(CONFIG.read_text()))
    assert real.dispositions == DEFAULTS
    assert set(real.defects) == {
        "stain",
        "tear",
        "missing_tag",
        "worn_or_washed",
        "odour",
        "broken_zipper",
        "missing_part",
        "manufacturing_defect",
    }
    vendor, not_as_new = real.rules
    assert (
        vendor.name,
        vendor.disposition,
        vendor.grades,
        vendor.defects_any,
        vendor.within_supplier_claim_window,
    ) == (
        "vendor claim",
        Disposition.RETURN_TO_VENDOR,
        frozenset({Grade.B, Grade.C, Grade.D}),
        frozenset({"manufacturing_defect"}),
        True,
    )
    assert (not_as_new.name, not_as_new.disposition, not_as_new.grades) == (
        "not as new",
        Disposition.RESTOCK_SECOND_QUALITY,
        frozenset({Grade.A}),
    )
    assert real.claim_days_default > 0 and all(d > 0 for d in real.claim_days_by_supplier.values())
    assert set(real.where_to_put) == {d.value for d in Disposition} | {
        "write_off_awaiting_approval"}
    assert all(t.startswith("image/") for t in real.photo_types) and real.photo_max_bytes > 0


def test_a_rule_without_grades_in_the_config_applies_to_every_grade():
    parsed = GradingPolicy.from_config(
        {
            "grades": {g.value: {"disposition": d.value} for g, d in DEFAULTS.items()},
            "rules": [{"name": "smelly", "defects_any": ["odour"], "disposition": "write_off"}],
        }
    )
    assert parsed.rules[0].grades == frozenset(Grade)
    assert parsed.claim_days_default == 180
