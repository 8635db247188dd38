"""Decision rules for replenishment suggestions: case packs, versions, what makes sense."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from returns_inventory.domain.errors import Conflict, ValidationFailed
from returns_inventory.domain.replenishment import (
    MAX_ORDER_QUANTITY,
    Seen,
    check_decision,
    decision_quantity,
    in_case_packs,
)

AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(("requested", "pack", "quantity", "cases"), [
    (1, 6, 6, 1), (6, 6, 6, 1), (7, 6, 12, 2), (25, 12, 36, 3), (5, 1, 5, 5), (5, None, 5, 5),
    (5, 0, 5, 5),
])
def test_quantities_round_up_to_whole_cases(requested, pack, quantity, cases):
    packed = in_case_packs(requested, pack)
    assert (packed.quantity, packed.cases) == (quantity, cases)
    assert packed.rounded_up is (quantity != requested)


def test_the_rounding_note_says_what_happened():
    assert in_case_packs(7, 6).note() == "7 units rounded up to 12 (2 cases of 6)"
    assert in_case_packs(12, 6).note() == "12 units = 2 cases of 6"


def test_a_proposed_suggestion_may_be_decided_without_naming_a_version():
    check_decision(Seen(1, "proposed", 1, None, None), "approve", None)


@pytest.mark.parametrize("status", ["edited", "approved", "rejected"])
def test_a_decided_suggestion_needs_the_version_its_decider_saw(status):
    seen = Seen(1, status, 2, "ana", AT)
    with pytest.raises(Conflict) as unseen:
        check_decision(seen, "reject", None)
    assert unseen.value.extra["decided_by"] == "ana"
    assert unseen.value.extra["decided_at"] == AT.isoformat()
    with pytest.raises(Conflict):
        check_decision(seen, "reject", 1)
    check_decision(seen, "reject", 2)


def test_superseded_suggestions_and_edits_of_approved_ones_are_refused():
    with pytest.raises(Conflict):
        check_decision(Seen(1, "superseded", 1, None, None), "approve", 1)
    with pytest.raises(Conflict):
        check_decision(Seen(1, "approved", 2, "ana", AT), "edit", 2)


def test_approval_takes_the_given_then_the_edited_then_the_suggested_quantity():
    assert decision_quantity("approve", 7, 12, 18, 6).quantity == 12
    assert decision_quantity("approve", None, 12, 18, 6).quantity == 12
    assert decision_quantity("approve", None, None, 18, 6).quantity == 18
    assert decision_quantity("reject", None, 12, 18, 6) is None


@pytest.mark.parametrize(("action", "requested", "suggested"), [
    ("edit", None, 18), ("reject", 6, 18), ("approve", None, 0), ("approve", 0, 18),
])
def test_decisions_that_make_no_sense_fail_validation(action, requested, suggested):
    with pytest.raises(ValidationFailed):
        decision_quantity(action, requested, None, suggested, 6)


def test_a_decision_quantity_beyond_any_real_order_is_refused_even_after_rounding():
    assert decision_quantity("edit", MAX_ORDER_QUANTITY, None, 5, 1).quantity == MAX_ORDER_QUANTITY
    for units, pack in ((MAX_ORDER_QUANTITY + 1, 1), (MAX_ORDER_QUANTITY - 1, 6),
                        (2**31 - 1, 6)):
        with pytest.raises(ValidationFailed) as refused:
            decision_quantity("edit", units, None, 5, pack)
        assert refused.value.errors[0].field == "quantity"
