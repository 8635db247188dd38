"""Stock balances and the append-only ledger: locking and posting (reads: stock_views.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DataError

from ...domain.stock import BalanceKey, Condition, Movement, StockBalance, too_many_units
from ..batch import WriteBatch
from ..tables import ledger_movements, stock_balances
from ..together import execute_raw
from .base import upsert, utcnow
from .stock_views import StockViews

# The ledger's hot path runs these for every unit graded: built once, their compiled form and
# cache key are reused instead of being rebuilt on every call.
_LOCK_BALANCE = (
    select(stock_balances)
    .where(
        stock_balances.c.item_id == bindparam("item_id"),
        stock_balances.c.location_id == bindparam("location_id"),
        stock_balances.c.condition == bindparam("condition"),
    )
    .with_for_update()
)
_SAVE_BALANCE = (
    stock_balances.update()
    .where(stock_balances.c.id == bindparam("balance_id"))
    .values(on_hand=bindparam("on_hand"), reserved=bindparam("reserved"),
            updated_at=bindparam("updated_at"))
)
_ADD_MOVEMENT = ledger_movements.insert().returning(ledger_movements.c.id)
_ADD_MOVEMENTS = ledger_movements.insert()


def _change_balance(insert):
    """Add deltas to a balance, creating it if new, and return the row as it now stands."""
    statement = insert(stock_balances).values(
        item_id=bindparam("item_id"), location_id=bindparam("location_id"),
        condition=bindparam("condition"), on_hand=bindparam("on_hand_delta"),
        reserved=bindparam("reserved_delta"), updated_at=bindparam("updated_at"),
    )
    return statement.on_conflict_do_update(
        index_elements=["item_id", "location_id", "condition"],
        set_={
            "on_hand": stock_balances.c.on_hand + statement.excluded.on_hand,
            "reserved": stock_balances.c.reserved + statement.excluded.reserved,
            "updated_at": statement.excluded.updated_at,
        },
    ).returning(stock_balances)


_CHANGE_BALANCE_SQLITE = _change_balance(sqlite.insert)
# The same on PostgreSQL, for psycopg's RawCursor: every balance in one execution, as one
# JSON array of [item_id, location_id, condition, on_hand, reserved] unnested in the order
# given (the order the rows are locked in), without SQLAlchemy's execution context, which
# cost a grade more CPU than the statement. One text parameter: psycopg dumped five arrays
# element by element, looking up each element's dumper, for more CPU than the JSON.
_CHANGE_BALANCES_PG = (
    b"INSERT INTO stock_balances (item_id, location_id, condition, on_hand, reserved, "
    b"updated_at) "
    b"SELECT (c.doc->>0)::integer, (c.doc->>1)::integer, c.doc->>2, (c.doc->>3)::integer, "
    b"(c.doc->>4)::integer, $2 "
    b"FROM json_array_elements($1::text::json) WITH ORDINALITY AS c(doc, n) "
    b"ORDER BY c.n "
    b"ON CONFLICT (item_id, location_id, condition) DO UPDATE SET "
    b"on_hand = stock_balances.on_hand + excluded.on_hand, "
    b"reserved = stock_balances.reserved + excluded.reserved, "
    b"updated_at = excluded.updated_at "
    b"RETURNING id, item_id, location_id, condition, on_hand, reserved"
)


class StockRepository(StockViews):
    """Balances and the append-only ledger, the write side: only services/ledger.py changes
    them (other services may lock a balance first). The reads come from StockViews."""

    def lock_balance(self, key: BalanceKey) -> StockBalance:
        """The balance row, created at zero if new, locked until the transaction ends."""
        params = {"item_id": key.item_id, "location_id": key.location_id,
                  "condition": key.condition.value}
        # FOR UPDATE serialises writers on PostgreSQL; SQLite already holds the database
        # write lock since BEGIN IMMEDIATE, and ignores the clause.
        row = self.connection.execute(_LOCK_BALANCE, params).first()
        if row is None:
            # New balance: create it at zero (a concurrent creator wins, we wait for it).
            self.connection.execute(
                upsert(self.connection, stock_balances)
                .values(**params, on_hand=0, reserved=0, updated_at=utcnow())
                .on_conflict_do_nothing(index_elements=["item_id", "location_id", "condition"])
            )
            row = self.connection.execute(_LOCK_BALANCE, params).one()
        return _stock_balance(row)

    def change_balances(
        self, changes: Sequence[tuple[BalanceKey, int, int]]
    ) -> dict[BalanceKey, StockBalance]:
        """Add each change's deltas to its balance (creating it at zero if new), in one
        statement that locks the rows in the order given; each balance as it now stands, by
        key. The rows stay locked until the transaction ends, so the caller may still refuse
        a change (raising rolls it back) before anyone else sees it."""
        now = utcnow()
        try:
            if self.connection.dialect.name == "postgresql":
                return {BalanceKey(item_id, location_id, Condition(condition)): StockBalance(
                    id=id_, item_id=item_id, location_id=location_id,
                    condition=Condition(condition), on_hand=on_hand, reserved=reserved)
                    for id_, item_id, location_id, condition, on_hand, reserved in execute_raw(
                        self.connection, _CHANGE_BALANCES_PG, [json.dumps([
                            [key.item_id, key.location_id, key.condition.value, on_hand,
                             reserved] for key, on_hand, reserved in changes]), now])}
            rows = self.connection.execute(_CHANGE_BALANCE_SQLITE, [
                {"item_id": key.item_id, "location_id": key.location_id,
                 "condition": key.condition.value, "on_hand_delta": on_hand_delta,
                 "reserved_delta": reserved_delta, "updated_at": now}
                for key, on_hand_delta, reserved_delta in changes]).all()
        except DataError as exc:
            # PostgreSQL adds in 32-bit columns and refuses the sum before the domain rule
            # can judge it; SQLite's 64-bit sum reaches the rule, which refuses it there.
            if getattr(exc.orig, "sqlstate", None) != "22003":  # numeric_value_out_of_range
                raise
            raise too_many_units() from None
        balances = (_stock_balance(row) for row in rows)
        return {BalanceKey(b.item_id, b.location_id, b.condition): b for b in balances}

    def save_balance(self, balance: StockBalance) -> None:
        self.connection.execute(_SAVE_BALANCE, {
            "balance_id": balance.id, "on_hand": balance.on_hand, "reserved": balance.reserved,
            "updated_at": utcnow()})

    def add_movement(self, balance: StockBalance, movement: Movement) -> int:
        """Append the movement to the ledger now; its id."""
        return self.connection.execute(_ADD_MOVEMENT, _movement_row(balance, movement)
                                       ).scalar_one()

    def keep_movement(self, batch: WriteBatch, balance: StockBalance, movement: Movement
                      ) -> None:
        """Append the movement to the ledger when the batch ends (it has no id before)."""
        batch.keep(_ADD_MOVEMENTS, _movement_row(balance, movement))


def _movement_row(balance: StockBalance, movement: Movement) -> dict:
    return {
        "balance_id": balance.id,
        "item_id": movement.item_id,
        "location_id": movement.location_id,
        "condition": movement.condition.value,
        "movement_type": movement.movement_type.value,
        "quantity": movement.quantity,
        "reserved_delta": movement.reserved_delta,
        "on_hand_after": balance.on_hand,
        "reserved_after": balance.reserved,
        "reason": movement.reason,
        "reference": movement.reference,
        "actor": movement.actor,
        "idempotency_key": movement.idempotency_key,
        "created_at": movement.created_at or utcnow(),
    }


def _stock_balance(row) -> StockBalance:
    return StockBalance(
        id=row.id,
        item_id=row.item_id,
        location_id=row.location_id,
        condition=Condition(row.condition),
        on_hand=row.on_hand,
        reserved=row.reserved,
    )
