"""The rules every balance change obeys, and what a ledger movement must carry."""

from __future__ import annotations

import pytest

from returns_inventory.domain.errors import InsufficientStock, ValidationFailed
from returns_inventory.domain.stock import Condition, Movement, MovementType, StockBalance


def _balance(on_hand=0, reserved=0):
    return StockBalance(item_id=1, location_id=1, condition=Condition.SELLABLE,
                        on_hand=on_hand, reserved=reserved)


@pytest.mark.parametrize(("start", "change", "end"), [
    ((0, 0), (5, 0), (5, 0)),      # goods in
    ((5, 0), (-5, 0), (0, 0)),     # the last unit may go
    ((5, 2), (0, 3), (5, 5)),      # reserve everything that is available
    ((5, 5), (-2, -2), (3, 3)),    # ship reserved units
    ((5, 3), (0, -3), (5, 0)),     # release a reservation
])
def test_a_change_within_what_is_available_is_applied(start, change, end):
    balance = _balance(*start)
    balance.apply(*change, allow_negative=False)
    assert (balance.on_hand, balance.reserved) == end
    assert balance.available == end[0] - end[1]


@pytest.mark.parametrize(("start", "change"), [
    ((0, 0), (-1, 0)),   # nothing to take
    ((5, 3), (-3, 0)),   # 3 of the 5 are promised to someone
    ((5, 3), (0, 3)),    # cannot promise more than is available
])
def test_a_change_that_would_make_available_negative_is_refused_and_changes_nothing(
    start, change
):
    balance = _balance(*start)
    with pytest.raises(InsufficientStock) as refused:
        balance.apply(*change, allow_negative=False)
    assert (balance.on_hand, balance.reserved) == start
    assert refused.value.extra["available"] == start[0] - start[1]


def test_a_location_that_allows_negative_stock_may_sell_what_it_has_not_booked():
    balance = _balance(1, 0)
    balance.apply(-3, 0, allow_negative=True)
    assert (balance.on_hand, balance.available) == (-2, -2)


@pytest.mark.parametrize("allow_negative", [False, True])
def test_reserved_never_goes_negative_even_where_negative_stock_is_allowed(allow_negative):
    balance = _balance(5, 1)
    with pytest.raises(InsufficientStock, match="only 1 reserved"):
        balance.apply(0, -2, allow_negative=allow_negative)
    assert balance.reserved == 1


def test_goods_into_a_balance_that_is_already_short_are_still_booked():
    # The balance went negative while the store allowed it; refusing the receipt now would
    # only make the books wrong twice.
    balance = _balance(-4, 0)
    balance.apply(2, 0, allow_negative=False)
    assert balance.on_hand == -2
    with pytest.raises(InsufficientStock):
        balance.apply(-1, 0, allow_negative=False)


def _movement(**changes):
    values = dict(item_id=1, location_id=1, condition=Condition.SELLABLE,
                  movement_type=MovementType.ADJUSTMENT, quantity=1, reason="count")
    return Movement(**{**values, **changes})


def test_a_movement_that_changes_nothing_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        _movement(quantity=0, reserved_delta=0)
    assert refused.value.errors[0].field == "quantity"


def test_a_reservation_may_not_change_on_hand():
    assert _movement(movement_type=MovementType.RESERVATION, quantity=0, reserved_delta=2)
    with pytest.raises(ValidationFailed, match="reserved units only"):
        _movement(movement_type=MovementType.RESERVATION, quantity=1, reserved_delta=1)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_an_adjustment_needs_a_reason(reason):
    with pytest.raises(ValidationFailed) as refused:
        _movement(reason=reason)
    assert refused.value.errors[0].field == "reason"


def test_a_movement_takes_stored_strings_and_refuses_unknown_ones():
    movement = _movement(condition="repair", movement_type="receipt")
    assert movement.condition is Condition.REPAIR
    assert movement.movement_type is MovementType.RECEIPT
    with pytest.raises(ValidationFailed) as refused:
        _movement(condition="muddy")
    assert refused.value.errors[0].field == "condition"
