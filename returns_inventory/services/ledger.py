"""The one function that changes stock balances. It always writes the ledger movement too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..domain.errors import NotFound
from ..domain.stock import BalanceKey, Movement, StockBalance


@dataclass(frozen=True)
class PostedMovement:
    movement_id: int
    balance: StockBalance


def post_movement(uow, movement: Movement) -> PostedMovement:
    """Apply one movement to its balance inside the caller's transaction (never commits).

    The balance row is locked first, so concurrent movements on the same balance queue up
    instead of overwriting each other, and the availability rule sees the latest figures.
    """
    location = uow.catalogue.location(movement.location_id)
    if location is None:
        raise NotFound(f"location {movement.location_id} does not exist")
    balance = uow.stock.lock_balance(
        BalanceKey(movement.item_id, movement.location_id, movement.condition)
    )
    balance.apply(
        movement.quantity, movement.reserved_delta, allow_negative=location.allow_negative
    )
    uow.stock.save_balance(balance)
    movement_id = uow.stock.add_movement(balance, movement)
    return PostedMovement(movement_id, balance)


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
