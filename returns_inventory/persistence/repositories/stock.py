"""Stock balances and the append-only ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ...domain.stock import BalanceKey, Condition, LedgerMismatch, Movement, StockBalance
from ..tables import items, ledger_movements, locations, stock_balances
from .base import Repository, as_utc, upsert, utcnow


@dataclass(frozen=True)
class BalanceRow:
    """A balance joined with the names a person reads."""

    id: int
    sku: str
    size: str
    location: str
    condition: str
    on_hand: int
    reserved: int
    updated_at: datetime

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class MovementRow:
    id: int
    sku: str
    size: str
    location: str
    condition: str
    movement_type: str
    quantity: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str | None
    reference: str | None
    actor: str
    idempotency_key: str | None
    created_at: datetime


_balance_view = (
    select(
        stock_balances.c.id,
        items.c.sku,
        items.c.size,
        locations.c.code.label("location"),
        stock_balances.c.condition,
        stock_balances.c.on_hand,
        stock_balances.c.reserved,
        stock_balances.c.updated_at,
    )
    .join(items, items.c.id == stock_balances.c.item_id)
    .join(locations, locations.c.id == stock_balances.c.location_id)
)

_movement_view = (
    select(
        ledger_movements.c.id,
        items.c.sku,
        items.c.size,
        locations.c.code.label("location"),
        ledger_movements.c.condition,
        ledger_movements.c.movement_type,
        ledger_movements.c.quantity,
        ledger_movements.c.reserved_delta,
        ledger_movements.c.on_hand_after,
        ledger_movements.c.reserved_after,
        ledger_movements.c.reason,
        ledger_movements.c.reference,
        ledger_movements.c.actor,
        ledger_movements.c.idempotency_key,
        ledger_movements.c.created_at,
    )
    .join(items, items.c.id == ledger_movements.c.item_id)
    .join(locations, locations.c.id == ledger_movements.c.location_id)
)


def _filtered(query, table, *, sku=None, size=None, location=None, condition=None):
    if sku:
        query = query.where(items.c.sku == sku)
    if size:
        query = query.where(items.c.size == size)
    if location:
        query = query.where(locations.c.code == location)
    if condition:
        query = query.where(table.c.condition == condition)
    return query


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


_CHANGE_BALANCE = {"postgresql": _change_balance(postgresql.insert),
                   "sqlite": _change_balance(sqlite.insert)}


class StockRepository(Repository):
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
        rows = self.connection.execute(_CHANGE_BALANCE[self.connection.dialect.name], [
            {"item_id": key.item_id, "location_id": key.location_id,
             "condition": key.condition.value, "on_hand_delta": on_hand_delta,
             "reserved_delta": reserved_delta, "updated_at": now}
            for key, on_hand_delta, reserved_delta in changes]).all()
        balances = (_stock_balance(row) for row in rows)
        return {BalanceKey(b.item_id, b.location_id, b.condition): b for b in balances}

    def save_balance(self, balance: StockBalance) -> None:
        self.connection.execute(_SAVE_BALANCE, {
            "balance_id": balance.id, "on_hand": balance.on_hand, "reserved": balance.reserved,
            "updated_at": utcnow()})

    def add_movement(self, balance: StockBalance, movement: Movement) -> int | None:
        """The movement's id; None while writes are collected (see UnitOfWork.batched)."""
        row = {
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
        if self._collect(_ADD_MOVEMENTS, row):
            return None
        return self.connection.execute(_ADD_MOVEMENT, row).scalar_one()

    def movement_by_idempotency_key(self, key: str) -> MovementRow | None:
        row = self.connection.execute(
            _movement_view.where(ledger_movements.c.idempotency_key == key)
        ).first()
        return _movement(row) if row else None

    def movement(self, movement_id: int) -> MovementRow | None:
        row = self.connection.execute(
            _movement_view.where(ledger_movements.c.id == movement_id)
        ).first()
        return _movement(row) if row else None

    def balance(self, key: BalanceKey) -> BalanceRow | None:
        row = self.connection.execute(
            _balance_view.where(
                stock_balances.c.item_id == key.item_id,
                stock_balances.c.location_id == key.location_id,
                stock_balances.c.condition == key.condition.value,
            )
        ).first()
        return _balance(row) if row else None

    def balances_at(self, location_id: int) -> dict[tuple[int, str], tuple[int, int]]:
        """(item_id, condition) -> (on_hand, reserved) for one location, in one query."""
        rows = self.connection.execute(
            select(
                stock_balances.c.item_id,
                stock_balances.c.condition,
                stock_balances.c.on_hand,
                stock_balances.c.reserved,
            ).where(stock_balances.c.location_id == location_id)
        )
        return {(r.item_id, r.condition): (r.on_hand, r.reserved) for r in rows}

    def list_balances(self, *, offset: int, limit: int, **filters) -> tuple[list[BalanceRow], int]:
        query = _filtered(_balance_view, stock_balances, **filters)
        total = self.connection.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.connection.execute(
            query.order_by(items.c.sku, items.c.size, locations.c.code, stock_balances.c.condition)
            .offset(offset)
            .limit(limit)
        )
        return [_balance(r) for r in rows], total or 0

    def list_movements(
        self,
        *,
        after: int | None,
        limit: int,
        movement_type: str | None = None,
        reference: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        **filters,
    ) -> list[MovementRow]:
        query = _filtered(_movement_view, ledger_movements, **filters)
        if after is not None:
            query = query.where(ledger_movements.c.id > after)
        if movement_type:
            query = query.where(ledger_movements.c.movement_type == movement_type)
        if reference:
            query = query.where(ledger_movements.c.reference == reference)
        if since:
            query = query.where(ledger_movements.c.created_at >= since)
        if until:
            query = query.where(ledger_movements.c.created_at < until)
        rows = self.connection.execute(query.order_by(ledger_movements.c.id).limit(limit))
        return [_movement(r) for r in rows]

    def ledger_mismatches(self) -> list[LedgerMismatch]:
        """Every balance whose figures differ from the sum of its movements (one query)."""
        sums = (
            select(
                ledger_movements.c.balance_id,
                func.sum(ledger_movements.c.quantity).label("on_hand"),
                func.sum(ledger_movements.c.reserved_delta).label("reserved"),
            )
            .group_by(ledger_movements.c.balance_id)
            .subquery()
        )
        ledger_on_hand = func.coalesce(sums.c.on_hand, 0)
        ledger_reserved = func.coalesce(sums.c.reserved, 0)
        rows = self.connection.execute(
            select(
                stock_balances.c.id,
                items.c.sku,
                items.c.size,
                locations.c.code,
                stock_balances.c.condition,
                stock_balances.c.on_hand,
                stock_balances.c.reserved,
                ledger_on_hand.label("ledger_on_hand"),
                ledger_reserved.label("ledger_reserved"),
            )
            .join(items, items.c.id == stock_balances.c.item_id)
            .join(locations, locations.c.id == stock_balances.c.location_id)
            .outerjoin(sums, sums.c.balance_id == stock_balances.c.id)
            .where(
                (stock_balances.c.on_hand != ledger_on_hand)
                | (stock_balances.c.reserved != ledger_reserved)
            )
            .order_by(stock_balances.c.id)
        )
        return [
            LedgerMismatch(
                balance_id=r.id,
                sku=r.sku,
                size=r.size,
                location=r.code,
                condition=r.condition,
                on_hand=r.on_hand,
                ledger_on_hand=int(r.ledger_on_hand),
                reserved=r.reserved,
                ledger_reserved=int(r.ledger_reserved),
            )
            for r in rows
        ]

    def balance_count(self) -> int:
        return self.connection.scalar(select(func.count()).select_from(stock_balances)) or 0


def _stock_balance(row) -> StockBalance:
    return StockBalance(
        id=row.id,
        item_id=row.item_id,
        location_id=row.location_id,
        condition=Condition(row.condition),
        on_hand=row.on_hand,
        reserved=row.reserved,
    )


def _balance(row) -> BalanceRow:
    return BalanceRow(**{**row._mapping, "updated_at": as_utc(row.updated_at)})


def _movement(row) -> MovementRow:
    return MovementRow(**{**row._mapping, "created_at": as_utc(row.created_at)})
