"""The one function that changes stock balances. It always writes the ledger movement too."""

from __future__ import annotations

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
