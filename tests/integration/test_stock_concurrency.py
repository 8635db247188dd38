"""Many clients changing one balance at once: no lost update, available never below zero.

Runs on PostgreSQL (row locks) and SQLite (writers queue on BEGIN IMMEDIATE) with real
threads, each on its own connection of a real committing database.
"""

from __future__ import annotations

from functools import partial

import pytest

from returns_inventory.domain.errors import InsufficientStock
from returns_inventory.domain.stock import BalanceKey, Condition, Movement, MovementType
from returns_inventory.persistence.engine import make_engine
from returns_inventory.persistence.uow import Database, UnitOfWork
from returns_inventory.services.ledger import post_movement
from returns_inventory.services.stock import adjust_stock, verify_ledger
from tests.factories import add_item, add_location
from tests.integration.concurrency_support import crowd

THREADS = 16


@pytest.fixture
def uow(committing_db):
    # A pool as wide as the crowd, so every thread really holds its own connection at once.
    url = committing_db.engine.url.render_as_string(hide_password=False)
    database = Database(make_engine(url, pool_size=THREADS + 2, max_overflow=0))
    yield partial(UnitOfWork, database)
    database.dispose()


def _ledger(uow):
    with uow() as work:
        return work.stock.list_movements(after=None, limit=100_000)


def _balance(uow, item_id, location_id):
    with uow() as work:
        return work.stock.balance(BalanceKey(item_id, location_id, Condition.SELLABLE))


def test_concurrent_adjustments_of_one_balance_lose_nothing_and_never_go_negative(uow):
    item_id, location_id = add_item(uow), add_location(uow)
    adjust_stock(uow, sku="TEE-BLK", size="M", location="WH1", condition="sellable",
                 quantity=10, reason="opening count", actor="setup")

    def clerk(n):
        # Each clerk counts in one unit and tries to take out eight twice: far more than
        # will ever be there, so some takes must be refused whatever the interleaving.
        accepted, refused = [], 0
        for quantity in (-4, +1, -4):
            try:
                adjust_stock(uow, sku="TEE-BLK", size="M", location="WH1",
                             condition="sellable", quantity=quantity, reason="race",
                             actor=f"clerk-{n}")
                accepted.append(quantity)
            except InsufficientStock:
                refused += 1
        return accepted, refused

    results = crowd([partial(clerk, n) for n in range(THREADS)])
    accepted = [q for done, _ in results for q in done]
    refused = sum(r for _, r in results)
    assert refused > 0 and any(q < 0 for q in accepted)
    assert len(accepted) + refused == 3 * THREADS

    balance = _balance(uow, item_id, location_id)
    assert balance.on_hand == 10 + sum(accepted)  # no update was lost
    movements = _ledger(uow)
    assert len(movements) == 1 + len(accepted)
    # The ledger replays in order: each movement starts where the previous one ended, so no
    # two writers ever read the same starting figure.
    running = 0
    for movement in movements:
        running += movement.quantity
        assert movement.on_hand_after == running
        assert movement.on_hand_after >= 0
    assert verify_ledger(uow) == []


def test_reservations_and_takes_racing_for_the_last_units_never_oversell(uow):
    item_id, location_id = add_item(uow), add_location(uow)
    adjust_stock(uow, sku="TEE-BLK", size="M", location="WH1", condition="sellable",
                 quantity=10, reason="opening count", actor="setup")

    def reserve():
        movement = Movement(item_id=item_id, location_id=location_id,
                            condition=Condition.SELLABLE, movement_type=MovementType.RESERVATION,
                            reserved_delta=1, reason="exchange", actor="returns")
        with uow() as work:
            post_movement(work, movement)
            work.commit()

    def take():
        adjust_stock(uow, sku="TEE-BLK", size="M", location="WH1", condition="sellable",
                     quantity=-1, reason="damaged", actor="floor")

    def attempt(job):
        try:
            job()
            return job.__name__
        except InsufficientStock:
            return None

    outcomes = crowd([partial(attempt, job) for job in [reserve, take] * THREADS])
    reserved, taken = outcomes.count("reserve"), outcomes.count("take")
    # 32 claims on 10 units: exactly 10 succeed, shared between the two kinds somehow.
    assert reserved + taken == 10

    balance = _balance(uow, item_id, location_id)
    assert (balance.on_hand, balance.reserved) == (10 - taken, reserved)
    assert balance.available == 0
    for movement in _ledger(uow):
        assert movement.on_hand_after - movement.reserved_after >= 0
    assert verify_ledger(uow) == []
