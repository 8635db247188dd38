"""Returns, their lines and exchange reservations; the sold lines they refer to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ...domain.returns import EXCHANGES, ExchangeStatus, ReturnStatus, SoldLine
from ...domain.stock import Condition
from ..returns_tables import (
    exchanges,
    return_lines,
    returns,
)
from ..tables import items, locations, sales_lines, stock_balances
from .base import Repository, utcnow

CLAIMING_STATUSES = (ReturnStatus.AUTHORIZED, ReturnStatus.RECEIVED)

class ReturnsRepository(Repository):
    # --- sales the returns refer to -------------------------------------------------
    def sold_line(self, order_ref: str, line_ref: str, *, lock: bool = False) -> SoldLine | None:
        """The sold line; locked, so two returns for it are checked one after the other."""
        query = (
            select(sales_lines, items.c.sku, items.c.size, items.c.category)
            .join(items, items.c.id == sales_lines.c.item_id)
            .where(sales_lines.c.order_ref == order_ref, sales_lines.c.line_ref == line_ref)
        )
        if lock:
            query = query.with_for_update(of=sales_lines)
        row = self.connection.execute(query).first()
        if row is None:
            return None
        return SoldLine(
            row.id,
            row.order_ref,
            row.line_ref,
            row.item_id,
            row.sku,
            row.size,
            row.category,
            row.channel,
            row.sold_on,
            row.quantity,
            row.unit_price,
        )

    def claimed_quantity(self, sales_line_id: int) -> int:
        """Units of a sold line already authorized or returned (cancelled ones free up)."""
        return self.connection.scalar(
            select(func.coalesce(func.sum(return_lines.c.quantity), 0))
            .join(returns, returns.c.id == return_lines.c.return_id)
            .where(
                return_lines.c.sales_line_id == sales_line_id,
                returns.c.status.in_(CLAIMING_STATUSES),
            )
        )

    # --- returns and lines ------------------------------------------------------------
    def add_return(self, **values: Any) -> int:
        now = utcnow()
        return self.connection.execute(
            returns.insert()
            .values(created_at=now, updated_at=now, **values)
            .returning(returns.c.id)
        ).scalar_one()

    def add_line(self, **values: Any) -> int:
        return self.connection.execute(
            return_lines.insert().values(**values).returning(return_lines.c.id)
        ).scalar_one()

    def return_by_rma(self, rma: str, *, lock: bool = False) -> dict | None:
        return self._return_where(returns.c.rma == rma, lock)

    def return_by_id(self, return_id: int, *, lock: bool = False) -> dict | None:
        return self._return_where(returns.c.id == return_id, lock)

    def _return_where(self, condition, lock: bool) -> dict | None:
        query = select(returns).where(condition)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return dict(row._mapping) if row else None

    def lines_of(self, return_id: int) -> list[dict]:
        rows = self.connection.execute(
            select(
                return_lines,
                sales_lines.c.order_ref,
                sales_lines.c.line_ref,
                sales_lines.c.unit_price,
                sales_lines.c.sold_on,
                items.c.sku,
                items.c.size,
            )
            .join(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
            .join(items, items.c.id == return_lines.c.item_id)
            .where(return_lines.c.return_id == return_id)
            .order_by(return_lines.c.line_no)
        )
        return [dict(r._mapping) for r in rows]

    def set_return_status(self, return_id: int, status: str) -> None:
        self.connection.execute(
            returns.update()
            .where(returns.c.id == return_id)
            .values(status=status, updated_at=utcnow())
        )

    def set_line_resolution(self, line_id: int, resolution: str) -> None:
        self.connection.execute(
            return_lines.update().where(return_lines.c.id == line_id).values(resolution=resolution)
        )

    def add_received(self, line_id: int, quantity: int) -> None:
        self.connection.execute(
            return_lines.update()
            .where(return_lines.c.id == line_id)
            .values(received_quantity=return_lines.c.received_quantity + quantity)
        )

    # --- exchanges --------------------------------------------------------------------
    def add_exchange(self, *, status: ExchangeStatus, **values: Any) -> int:
        EXCHANGES.check(None, status)
        now = utcnow()
        return self.connection.execute(
            exchanges.insert()
            .values(created_at=now, updated_at=now, status=status, **values)
            .returning(exchanges.c.id)
        ).scalar_one()

    def exchange(self, exchange_id: int, *, lock: bool = False) -> dict | None:
        query = select(exchanges).where(exchanges.c.id == exchange_id)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return dict(row._mapping) if row else None

    def exchanges_of(self, return_id: int) -> list[dict]:
        rows = self.connection.execute(
            select(exchanges, items.c.sku, items.c.size, locations.c.code.label("location"))
            .join(items, items.c.id == exchanges.c.item_id)
            .outerjoin(locations, locations.c.id == exchanges.c.location_id)
            .where(exchanges.c.return_id == return_id)
            .order_by(exchanges.c.id)
        )
        return [dict(r._mapping) for r in rows]

    def reserve_exchange_at(self, exchange_id: int, *, was: str, location_id: int,
                            expires_at: datetime) -> None:
        """A released or backordered exchange holds a replacement again."""
        self.set_exchange_status(exchange_id, ExchangeStatus.RESERVED, was=was,
                                 location_id=location_id, expires_at=expires_at)

    def exchanges_by_status(self, status: str, *, limit: int, after: int | None) -> list[dict]:
        query = (
            select(exchanges, items.c.sku, items.c.size, locations.c.code.label("location"),
                   returns.c.rma, return_lines.c.line_no)
            .join(items, items.c.id == exchanges.c.item_id)
            .join(returns, returns.c.id == exchanges.c.return_id)
            .join(return_lines, return_lines.c.id == exchanges.c.return_line_id)
            .outerjoin(locations, locations.c.id == exchanges.c.location_id)
            .where(exchanges.c.status == status)
            .order_by(exchanges.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(exchanges.c.id > after)
        return [dict(r._mapping) for r in self.connection.execute(query)]

    def set_exchange_status(self, exchange_id: int, status: ExchangeStatus, *, was: str,
                            **values: Any) -> None:
        """Move a locked exchange from ``was`` to ``status``, if its lifecycle allows that."""
        EXCHANGES.check(was, status, name=str(exchange_id))
        self.connection.execute(
            exchanges.update()
            .where(exchanges.c.id == exchange_id)
            .values(status=status, updated_at=utcnow(), **values)
        )

    def expired_reservations(self, now: datetime, limit: int = 500) -> list[int]:
        rows = self.connection.execute(
            select(exchanges.c.id)
            .where(exchanges.c.status == ExchangeStatus.RESERVED, exchanges.c.expires_at < now)
            .order_by(exchanges.c.id)
            .limit(limit)
        )
        return [r.id for r in rows]

    def sellable_at(self, item_ids: list[int]) -> list[dict]:
        """Sellable available units per (item, location), most available first."""
        available = stock_balances.c.on_hand - stock_balances.c.reserved
        rows = self.connection.execute(
            select(
                stock_balances.c.item_id,
                items.c.sku,
                items.c.size,
                stock_balances.c.location_id,
                locations.c.code.label("location"),
                available.label("available"),
            )
            .join(items, items.c.id == stock_balances.c.item_id)
            .join(locations, locations.c.id == stock_balances.c.location_id)
            .where(
                stock_balances.c.item_id.in_(item_ids),
                stock_balances.c.condition == Condition.SELLABLE.value,
                available > 0,
            )
            .order_by(available.desc(), locations.c.code)
        )
        return [dict(r._mapping) for r in rows]

    def sizes_of_sku(self, sku: str) -> dict[str, int]:
        rows = self.connection.execute(select(items.c.id, items.c.size).where(items.c.sku == sku))
        return {r.size: r.id for r in rows}
