"""Stock and ledger as people and the ERP read them: balances and movements joined with the
item and location names, the ledger check. The write side (locking, posting) is in stock.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ...domain.stock import BalanceKey, LedgerMismatch
from ..tables import items, ledger_movements, locations, stock_balances
from .base import Repository


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


class StockViews(Repository):
    """The read side of the stock repository."""

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


def _balance(row) -> BalanceRow:
    return BalanceRow(**{**row._mapping, "updated_at": row.updated_at})


def _movement(row) -> MovementRow:
    return MovementRow(**{**row._mapping, "created_at": row.created_at})
