"""The one function that changes stock balances. It always writes the ledger movement too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..domain.errors import InsufficientStock
from ..domain.stock import BalanceKey, Movement, StockBalance


@dataclass(frozen=True)
class PostedMovement:
    movement_id: int | None  # None while the unit of work batches its writes
    balance: StockBalance


def post_movement(uow, movement: Movement) -> PostedMovement:
    """Apply one movement to its balance inside the caller's transaction (never commits).

    The balance row is locked by the change itself, so concurrent movements on the same
    balance queue up instead of overwriting each other, and the availability rule judges the
    latest figures; a refused change raises, and the caller's rollback undoes it.
    """
    key = BalanceKey(movement.item_id, movement.location_id, movement.condition)
    on_hand_delta, reserved_delta = movement.quantity, movement.reserved_delta
    if reserved_delta < 0:
        # The table itself refuses a negative reserved figure, and would do so before the
        # rule below could say why: releases read the locked row first and write after.
        balance = uow.stock.lock_balance(key)
        _apply(uow, balance, movement)
        uow.stock.save_balance(balance)
    else:
        # One round trip instead of lock, read and save: this runs for every unit graded.
        after = uow.stock.change_balance(key, on_hand_delta, reserved_delta)
        balance = StockBalance(
            item_id=after.item_id, location_id=after.location_id, condition=after.condition,
            on_hand=after.on_hand - on_hand_delta, reserved=after.reserved - reserved_delta,
            id=after.id,
        )
        _apply(uow, balance, movement)
    movement_id = uow.stock.add_movement(balance, movement)
    return PostedMovement(movement_id, balance)


def post_movements(uow, movements: Sequence[Movement]) -> list[PostedMovement]:
    """Post several movements, judged by the same rule as post_movement in the order given,
    with all their balances changed (and locked, in balance_order) by one statement."""
    if len(movements) < 2 or any(m.reserved_delta < 0 for m in movements):
        keys = [BalanceKey(m.item_id, m.location_id, m.condition) for m in movements]
        lock_in_order(uow, keys)
        return [post_movement(uow, m) for m in movements]
    totals: dict[BalanceKey, list[int]] = {}
    for m in movements:
        total = totals.setdefault(BalanceKey(m.item_id, m.location_id, m.condition), [0, 0])
        total[0] += m.quantity
        total[1] += m.reserved_delta
    keys = sorted(totals, key=balance_order)
    after = uow.stock.change_balances([(key, *totals[key]) for key in keys])
    # Back to the figures before this call, then forward one movement at a time.
    current = {
        key: replace(after[key], on_hand=after[key].on_hand - totals[key][0],
                     reserved=after[key].reserved - totals[key][1])
        for key in keys
    }
    posted = []
    for m in movements:
        balance = current[BalanceKey(m.item_id, m.location_id, m.condition)]
        _apply(uow, balance, m)
        snapshot = replace(balance)
        posted.append(PostedMovement(uow.stock.add_movement(snapshot, m), snapshot))
    return posted


def _apply(uow, balance: StockBalance, movement: Movement) -> None:
    """The domain's rule on the balance as it stood; the location is read only when the
    rule would refuse, since only a location that allows negative stock can change that."""
    try:
        balance.apply(movement.quantity, movement.reserved_delta, allow_negative=False)
    except InsufficientStock:
        location = uow.catalogue.location(movement.location_id)
        if location is None or not location.allow_negative:
            raise
        balance.apply(movement.quantity, movement.reserved_delta, allow_negative=True)


def balance_order(key: BalanceKey) -> tuple[int, int, str]:
    """The one order in which a transaction locks several balances."""
    return (key.item_id, key.location_id, key.condition.value)


def lock_in_order(uow, keys: Sequence[BalanceKey]) -> None:
    """Before posting to several balances in the order `keys` lists them, lock them in
    `balance_order`: two transactions taking the same locks in opposite orders deadlock on
    PostgreSQL. post_movement then re-locks rows this transaction already holds, without
    waiting. Keys already in order cost nothing: posting takes their locks in order anyway.
    """
    ordered = sorted(set(keys), key=balance_order)
    if list(dict.fromkeys(keys)) != ordered:
        for key in ordered:
            uow.stock.lock_balance(key)
