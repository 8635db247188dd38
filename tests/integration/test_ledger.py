"""The one ledger function: balances and movements change together, or not at all."""

from __future__ import annotations

import pytest

from returns_inventory.domain.errors import InsufficientStock
from returns_inventory.domain.stock import Condition, Movement, MovementType
from returns_inventory.services.ledger import post_movement, posting_together
from returns_inventory.services.stock import adjust_stock, verify_ledger
from tests.factories import add_item, add_location


def _move(item_id, location_id, quantity, reserved=0, condition=Condition.SELLABLE):
    return Movement(
        item_id=item_id, location_id=location_id, condition=condition,
        movement_type=MovementType.ADJUSTMENT, quantity=quantity, reserved_delta=reserved,
        reason="test", actor="tester",
    )


def test_an_adjustment_changes_the_balance_and_writes_one_movement(uow_factory):
    add_item(uow_factory)
    add_location(uow_factory)
    result = adjust_stock(
        uow_factory, sku="TEE-BLK", size="M", location="WH1", condition="sellable",
        quantity=7, reason="cycle count", actor="token:erp",
    )
    assert (result.on_hand, result.reserved, result.available) == (7, 0, 7)
    with uow_factory() as uow:
        [movement] = uow.stock.list_movements(after=None, limit=10)
        assert uow.events.count("stock.adjusted") == 1
    assert (movement.quantity, movement.on_hand_after, movement.actor) == (7, 7, "token:erp")
    assert movement.reason == "cycle count"
    assert verify_ledger(uow_factory) == []


def test_taking_more_than_is_available_is_refused_and_writes_nothing(uow_factory):
    item_id = add_item(uow_factory)
    location_id = add_location(uow_factory)
    with uow_factory() as uow:
        post_movement(uow, _move(item_id, location_id, 5, reserved=3))
        uow.commit()
    with uow_factory() as uow, pytest.raises(InsufficientStock):
        post_movement(uow, _move(item_id, location_id, -3))
    with uow_factory() as uow:
        assert len(uow.stock.list_movements(after=None, limit=10)) == 1
        [balance], _ = uow.stock.list_balances(offset=0, limit=10)
    assert (balance.on_hand, balance.reserved, balance.available) == (5, 3, 2)


def test_a_location_that_allows_negative_stock_may_go_below_zero(uow_factory):
    item_id = add_item(uow_factory)
    location_id = add_location(uow_factory, "ST1", type="store", allow_negative=True)
    with uow_factory() as uow:
        posted = post_movement(uow, _move(item_id, location_id, -2))
        uow.commit()
    assert posted.balance.on_hand == -2


def test_a_retried_adjustment_with_the_same_key_applies_once(uow_factory):
    add_item(uow_factory)
    add_location(uow_factory)
    kwargs = dict(sku="TEE-BLK", size="M", location="WH1", condition="sellable", quantity=4,
                  reason="found", actor="token:erp", idempotency_key="adj-1")
    first = adjust_stock(uow_factory, **kwargs)
    again = adjust_stock(uow_factory, **kwargs)
    assert again.replayed and again.movement_id == first.movement_id
    assert again.on_hand == 4


def test_verify_ledger_names_a_balance_edited_behind_the_ledgers_back(uow_factory, db):
    from returns_inventory.persistence.tables import stock_balances

    item_id = add_item(uow_factory)
    location_id = add_location(uow_factory)
    with uow_factory() as uow:
        post_movement(uow, _move(item_id, location_id, 5))
        uow.commit()
    db.connection.execute(stock_balances.update().values(on_hand=9))
    [mismatch] = verify_ledger(uow_factory)
    assert (mismatch.sku, mismatch.on_hand, mismatch.ledger_on_hand) == ("TEE-BLK", 9, 5)
    assert "TEE-BLK" in mismatch.describe()


def test_movements_posted_together_are_judged_one_after_another_in_order(uow_factory):
    item_id = add_item(uow_factory)
    location_id = add_location(uow_factory)
    with uow_factory() as uow:
        post_movement(uow, _move(item_id, location_id, 1))
        uow.commit()
    # Taken out first, the 3 units were not there yet: refused, and nothing is written.
    def out_then_in(uow):
        with posting_together(uow):
            post_movement(uow, _move(item_id, location_id, -3))
            post_movement(uow, _move(item_id, location_id, 2))

    with uow_factory() as uow, pytest.raises(InsufficientStock):
        out_then_in(uow)
    with uow_factory() as uow:
        assert len(uow.stock.list_movements(after=None, limit=10)) == 1
    # Put in first, they were: each movement records the balance right after it.
    with uow_factory() as uow:
        with posting_together(uow):
            post_movement(uow, _move(item_id, location_id, 2))
            post_movement(uow, _move(item_id, location_id, -3))
            post_movement(uow, _move(item_id, location_id, 4, reserved=1))
            # A release reads its row first: what was kept is posted before it.
            post_movement(uow, _move(item_id, location_id, 0, reserved=-1))
        uow.commit()
    with uow_factory() as uow:
        movements = uow.stock.list_movements(after=None, limit=10)
        [balance], _ = uow.stock.list_balances(offset=0, limit=10)
    assert [(m.quantity, m.on_hand_after) for m in movements] == [
        (1, 1), (2, 3), (-3, 0), (4, 4), (0, 4)]
    assert (balance.on_hand, balance.reserved) == (4, 0)
    assert verify_ledger(uow_factory) == []
