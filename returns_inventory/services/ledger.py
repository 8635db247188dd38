"""The one place that changes stock balances. It always writes the ledger movements too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from ..domain.errors import InsufficientStock
from ..domain.stock import BalanceKey, Movement, StockBalance
from ..persistence.uow import UnitOfWork


@dataclass(frozen=True)
class PostedMovement:
    movement_id: int | None  # None in a batch: its ledger line is written when the batch ends
    balance: StockBalance | None  # None while movements are posted together

    @property
    def written_id(self) -> int:
        """The ledger line's id, for callers outside ``uow.batched()``."""
        if self.movement_id is None:
            raise RuntimeError("a movement written in a batch has no id until the batch ends")
        return self.movement_id

    @property
    def figures(self) -> StockBalance:
        """The balance after this movement, for callers that post one at once."""
        if self.balance is None:
            raise RuntimeError("a movement kept by posting_together has no figures yet")
        return self.balance


@contextmanager
def posting_together(uow: UnitOfWork) -> Iterator[None]:
    """Inside, movements are kept, and on leaving they are posted with one statement for
    all their balances, exactly as if posted one after another in the order given: each is
    still judged by the availability rule, and a refusal raises there. For a group of grades,
    whose code never reads a balance back; a release of reserved stock, which must read its
    row first, posts what was kept and then itself at once. The block is a write batch
    (`uow.batched()`): the ledger lines are written with the batch."""
    with uow.batched() as batch:
        batch.movements = []
        try:
            yield
            kept = batch.movements
        finally:
            batch.movements = None
        post_movements(uow, kept)


def post_movement(uow: UnitOfWork, movement: Movement) -> PostedMovement:
    """Apply one movement to its balance inside the caller's transaction (never commits)."""
    [posted] = post_movements(uow, [movement])
    return posted


def post_movements(uow: UnitOfWork, movements: Sequence[Movement]) -> list[PostedMovement]:
    """Apply movements in the order given, each judged by the availability rule, and append
    their ledger lines, inside the caller's transaction (never commits).

    One statement changes every balance involved and locks its row, in balance_order, so
    concurrent movements on a balance queue instead of overwriting each other or deadlocking,
    and the rule judges the latest figures; a refused change raises, and the caller's
    rollback undoes it.
    """
    if not movements:
        return []
    batch = uow.batch
    if batch is not None and (kept := batch.movements) is not None:
        if all(m.reserved_delta >= 0 for m in movements):
            kept.extend(movements)
            return [PostedMovement(None, None) for _ in movements]
        batch.movements = None
        post_movements(uow, kept)
        kept.clear()
        batch.movements = kept
    keys = [BalanceKey(m.item_id, m.location_id, m.condition) for m in movements]
    if any(m.reserved_delta < 0 for m in movements):
        # The table refuses a negative reserved figure before the rule could say why:
        # releases lock and read their rows first, and write after the rule agrees.
        lock_in_order(uow, keys)
        return [_post_after_reading(uow, key, m) for key, m in zip(keys, movements, strict=True)]
    totals: dict[BalanceKey, list[int]] = {}
    for key, m in zip(keys, movements, strict=True):
        total = totals.setdefault(key, [0, 0])
        total[0] += m.quantity
        total[1] += m.reserved_delta
    ordered = sorted(totals, key=balance_order)
    after = uow.stock.change_balances([(key, totals[key][0], totals[key][1]) for key in ordered])
    # Back to the figures before this call, then forward one movement at a time.
    current = {
        key: replace(after[key], on_hand=after[key].on_hand - totals[key][0],
                     reserved=after[key].reserved - totals[key][1])
        for key in ordered
    }
    posted = []
    for key, m in zip(keys, movements, strict=True):
        _apply(uow, current[key], m)
        snapshot = replace(current[key])
        posted.append(PostedMovement(_write_line(uow, snapshot, m), snapshot))
    return posted


def _write_line(uow: UnitOfWork, balance: StockBalance, movement: Movement) -> int | None:
    """The movement's ledger line: written now (its id), or kept in the open batch (None)."""
    if uow.batch is None:
        return uow.stock.add_movement(balance, movement)
    uow.stock.keep_movement(uow.batch, balance, movement)
    return None


def _post_after_reading(uow: UnitOfWork, key: BalanceKey, movement: Movement) -> PostedMovement:
    balance = uow.stock.lock_balance(key)
    _apply(uow, balance, movement)
    uow.stock.save_balance(balance)
    return PostedMovement(_write_line(uow, balance, movement), balance)


def _apply(uow: UnitOfWork, balance: StockBalance, movement: Movement) -> None:
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


def lock_in_order(uow: UnitOfWork, keys: Sequence[BalanceKey]) -> None:
    """Before posting to several balances in the order `keys` lists them, lock them in
    `balance_order`: two transactions taking the same locks in opposite orders deadlock on
    PostgreSQL. Posting then re-locks rows this transaction already holds, without waiting.
    Keys already in order cost nothing: posting takes their locks in order anyway.
    """
    ordered = sorted(set(keys), key=balance_order)
    if list(dict.fromkeys(keys)) != ordered:
        for key in ordered:
            uow.stock.lock_balance(key)
