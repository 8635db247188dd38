"""Reference checks on staged rows, and the set-based merges into the real tables.

Every merge is one INSERT … SELECT … ON CONFLICT statement, so a million rows cost one
round trip. Upserts only touch a row whose values differ, which is what makes a re-sent
row change nothing (its `updated_at` included) and lets the row count say what changed.
"""

from __future__ import annotations

from sqlalchemy import (
    Connection,
    Table,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
)

from ...domain.stock import Condition
from ..tables import items, locations, purchase_order_lines, sales_lines, stock_balances
from . import day_summary
from .base import upsert, utcnow
from .import_staging import first_rows


def _item_join(staged: Table):
    return and_(items.c.sku == staged.c.sku, items.c.size == staged.c.size)


def unknown_items(connection: Connection, staged: Table, limit: int):
    query = (
        select(staged.c.row_no, staged.c.sku, staged.c.size)
        .select_from(staged.outerjoin(items, _item_join(staged)))
        .where(items.c.id.is_(None))
    )
    return first_rows(connection, query, limit)


def unknown_locations(connection: Connection, staged: Table, limit: int):
    query = (
        select(staged.c.row_no, staged.c.location)
        .select_from(staged.outerjoin(locations, locations.c.code == staged.c.location))
        .where(locations.c.id.is_(None))
    )
    return first_rows(connection, query, limit)


def gtins_taken(connection: Connection, staged: Table, limit: int):
    """Rows whose barcode already belongs to a different item."""
    query = (
        select(staged.c.row_no, staged.c.gtin, items.c.sku, items.c.size)
        .select_from(staged.join(items, items.c.gtin == staged.c.gtin))
        .where(or_(items.c.sku != staged.c.sku, items.c.size != staged.c.size))
    )
    return first_rows(connection, query, limit)


def _resolved(staged: Table):
    """Staged rows joined to their item and location ids (unknown ones were refused)."""
    return staged.join(items, _item_join(staged)).join(
        locations, locations.c.code == staged.c.location
    )


def _balance_join(staged: Table):
    return and_(
        stock_balances.c.item_id == items.c.id,
        stock_balances.c.location_id == locations.c.id,
        stock_balances.c.condition == staged.c.condition,
    )


def snapshot_below_reserved(connection: Connection, staged: Table, limit: int):
    """Snapshot rows that would leave fewer units on hand than are reserved (or go negative)
    at a location that does not allow negative stock."""
    reserved = func.coalesce(stock_balances.c.reserved, 0)
    query = (
        select(staged.c.row_no, staged.c.on_hand, reserved.label("reserved"))
        .select_from(_resolved(staged).outerjoin(stock_balances, _balance_join(staged)))
        .where(not_(locations.c.allow_negative), staged.c.on_hand < reserved)
    )
    return first_rows(connection, query, limit)


def snapshot_chunk(
    connection: Connection, staged: Table, after: tuple | None, limit: int
) -> list:
    """Snapshot rows with ids and the balance's current on hand, in the ledger's lock order
    (item, location, condition: services.ledger.balance_order), after `after`: the
    (item_id, location_id, rank) of the previous chunk's last row. A whole file locks in that
    order, as every other transaction does, so an import and a grade touching the same
    balances cannot deadlock."""
    # Condition by name, spelt out so that the database's collation cannot reorder it.
    names = sorted(c.value for c in Condition)
    rank = case({name: n for n, name in enumerate(names)}, value=staged.c.condition)
    position = (items.c.id, locations.c.id, rank)
    query = (
        select(
            staged.c.row_no,
            items.c.id.label("item_id"),
            locations.c.id.label("location_id"),
            staged.c.condition,
            staged.c.on_hand,
            stock_balances.c.on_hand.label("current"),
            rank.label("rank"),
        )
        .select_from(_resolved(staged).outerjoin(stock_balances, _balance_join(staged)))
        .order_by(*position)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(*position) > tuple_(*after))
    return connection.execute(query).all()


def _merge(
    connection: Connection,
    target: Table,
    source,
    columns: list[str],
    key: list[str],
    extra: dict | None = None,
) -> int:
    """Upsert `source` rows into `target`; returns how many rows were inserted or changed."""
    extra = extra or {}
    # SQLite needs a WHERE in INSERT … SELECT … ON CONFLICT to parse it unambiguously.
    source = source.add_columns(*(literal(v, target.c[k].type) for k, v in extra.items()))
    source = source.where(true())
    stmt = upsert(connection, target).from_select(columns + list(extra), source)
    compared = [c for c in columns if c not in key]
    stmt = stmt.on_conflict_do_update(
        index_elements=key,
        set_={c: stmt.excluded[c] for c in compared + list(extra)},
        where=or_(*(target.c[c].is_distinct_from(stmt.excluded[c]) for c in compared)),
    )
    return _count(connection, stmt)


def _count(connection: Connection, stmt) -> int:
    # SQLAlchemy drops an INSERT's rowcount unless asked to keep it.
    return connection.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount


def merge_items(connection: Connection, staged: Table) -> int:
    columns = [c.name for c in staged.columns if c.name != "row_no"]
    source = select(*(staged.c[c] for c in columns))
    return _merge(connection, items, source, columns, ["sku", "size"], {"updated_at": utcnow()})


def merge_locations(connection: Connection, staged: Table) -> int:
    columns = ["code", "name", "type", "allow_negative"]
    source = select(*(staged.c[c] for c in columns))
    return _merge(connection, locations, source, columns, ["code"])


def merge_purchase_orders(connection: Connection, staged: Table) -> int:
    plain = ["po_ref", "line_ref", "quantity", "expected_on", "received_quantity", "status"]
    source = select(
        *(staged.c[c] for c in plain),
        items.c.id.label("item_id"),
        locations.c.id.label("location_id"),
    ).select_from(_resolved(staged))
    columns = [*plain, "item_id", "location_id"]
    return _merge(
        connection,
        purchase_order_lines,
        source,
        columns,
        ["po_ref", "line_ref"],
        {"updated_at": utcnow()},
    )


def insert_sales(connection: Connection, staged: Table, batch_id: int) -> int:
    """Add sales lines not seen before; a line already stored is left exactly as it was."""
    columns = ["sold_on", "order_ref", "line_ref", "quantity", "unit_price", "channel"]
    source = (
        select(
            *(staged.c[c] for c in columns),
            items.c.id,
            locations.c.id,
            literal(batch_id, sales_lines.c.batch_id.type),
        )
        .select_from(_resolved(staged))
        .where(true())
    )
    stmt = (
        upsert(connection, sales_lines)
        .from_select([*columns, "item_id", "location_id", "batch_id"], source)
        .on_conflict_do_nothing(index_elements=["order_ref", "line_ref"])
    )
    return day_summary.insert_sales(connection, stmt)  # and adds them to sales_by_day
