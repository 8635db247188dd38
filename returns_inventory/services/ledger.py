"""The one function that changes stock balances. It always writes the ledger movement too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
