"""A unit of work's write batch: the kept rows are written together, or none of them."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from returns_inventory.domain.stock import Condition, Movement, MovementType, StockBalance
from returns_inventory.services.ledger import post_movement
from tests.factories import add_item, add_location


def _move(item_id, location_id, quantity):
    return Movement(item_id=item_id, location_id=location_id, condition=Condition.SELLABLE,
                    movement_type=MovementType.ADJUSTMENT, quantity=quantity,
                    reason="test", actor="tester")


def test_a_kept_row_the_database_refuses_raises_its_error_and_nothing_is_written(uow_factory):
    item_id = add_item(uow_factory)
    location_id = add_location(uow_factory)
    with uow_factory() as uow:
        post_movement(uow, _move(item_id, location_id, 5))
        uow.commit()
    # On PostgreSQL the kept rows go as one statement through the DBAPI cursor: a refusal
    # must still be SQLAlchemy's exception, and the good rows beside it must not stay.
    no_such_balance = StockBalance(item_id, location_id, Condition.SELLABLE, 9, 0, id=999_999)

    def a_good_row_and_a_bad_one(uow):
        with uow.batched():
            post_movement(uow, _move(item_id, location_id, 2))
            uow.stock.keep_movement(uow.batch, no_such_balance, _move(item_id, location_id, 2))

    with uow_factory() as uow, pytest.raises(IntegrityError):
        a_good_row_and_a_bad_one(uow)
    with uow_factory() as uow:
        movements = uow.stock.list_movements(after=None, limit=10)
        [balance], _ = uow.stock.list_balances(offset=0, limit=10)
    assert [(m.quantity, m.on_hand_after) for m in movements] == [(5, 5)]
    assert balance.on_hand == 5


def test_rows_kept_for_several_tables_are_all_written_in_order(uow_factory):
    item_id = add_item(uow_factory)
    location_id = add_location(uow_factory)
    with uow_factory() as uow:
        with uow.batched():
            for quantity in (3, -1, 4, -2):
                post_movement(uow, _move(item_id, location_id, quantity))
        uow.events.add("test.happened", {"n": 1}, actor="tester")
        uow.events.add("test.happened", {"n": 2}, actor="tester")
        uow.commit()
    with uow_factory() as uow:
        movements = uow.stock.list_movements(after=None, limit=10)
        events = uow.events.after(0, 10, "test.happened")
    assert [(m.quantity, m.on_hand_after) for m in movements] == [(3, 3), (-1, 2), (4, 6), (-2, 4)]
    assert [e.payload for e in events] == [{"n": 1}, {"n": 2}]
