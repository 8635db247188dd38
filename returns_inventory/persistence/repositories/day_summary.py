"""Keeping units sold and returned per item and sale day (summary_tables.py) in step with
the lines, in the writer's own transaction: a rolled-back import or receipt leaves no trace
there either, and a line is counted when it is inserted, never again (a re-sent line is not
inserted, so not counted).

Each writer adds what it inserted in one INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE,
the summary rows in key order, so two imports touching the same rows wait for each other
instead of deadlocking. The sales import's is part of its insert (insert_sales): re-reading
a million lines it had just written cost it 5-6 s.
"""

from __future__ import annotations

from sqlalchemy import Connection, Insert, Table, delete, func, select, true

from ..returns_tables import imported_returns, return_lines, return_units
from ..summary_tables import returns_by_sale_day, sales_by_day
from ..tables import sales_lines
from .base import upsert


def count_sales(connection: Connection, which) -> None:
    """Add the sales lines `which` (a condition on sales_lines) to the units sold per day."""
    source = (
        select(sales_lines.c.sold_on, sales_lines.c.item_id, func.sum(sales_lines.c.quantity))
        .where(which)
        .group_by(sales_lines.c.sold_on, sales_lines.c.item_id)
    )
    _add(connection, sales_by_day, source)


def insert_sales(connection: Connection, insert: Insert) -> int:
    """Run `insert`, an INSERT of sales lines that skips those already stored (ON CONFLICT DO
    NOTHING), and add the lines it inserted to the units sold per day; returns how many."""
    if connection.dialect.name == "postgresql":
        # One statement: the insert's own RETURNING, grouped into the summary's upsert.
        inserted = insert.returning(
            sales_lines.c.sold_on, sales_lines.c.item_id, sales_lines.c.quantity
        ).cte("inserted")
        source = select(
            inserted.c.sold_on, inserted.c.item_id, func.sum(inserted.c.quantity)
        ).group_by(inserted.c.sold_on, inserted.c.item_id)
        counted = _upsert(connection, sales_by_day, source).cte("counted")
        added = select(func.count()).select_from(inserted).add_cte(counted)
        return connection.execute(added).scalar_one()
    # SQLite: a new row's id is above every stored one (the rowid's max + 1), and the writer
    # holds the database's one write lock until it commits (an import took it claiming its
    # batch), so the lines above the highest id before are exactly those inserted: a walk
    # of the key's end, with no index on the batch to keep.
    before = connection.execute(select(func.max(sales_lines.c.id))).scalar()
    added = connection.execute(insert, execution_options={"preserve_rowcount": True}).rowcount
    if added:
        count_sales(connection, sales_lines.c.id > (before or 0))
    return added


def count_received(connection: Connection, which) -> None:
    """Add the received units `which` (a condition on return_units) of live returns to the
    units back per day of sale and reason (a unit received blind, of no return, is not one)."""
    source = (
        select(sales_lines.c.sold_on, sales_lines.c.item_id, return_lines.c.reason, func.count())
        .select_from(return_units)
        .join(return_lines, return_lines.c.id == return_units.c.return_line_id)
        .join(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
        .where(which)
        .group_by(sales_lines.c.sold_on, sales_lines.c.item_id, return_lines.c.reason)
    )
    _add(connection, returns_by_sale_day, source)


def count_imported_returns(connection: Connection, which) -> None:
    """Add the imported returns `which` (a condition on imported_returns); one whose sale's
    day is unknown counts on the day it came back, as the analytics window counts it."""
    day = func.coalesce(imported_returns.c.sold_on, imported_returns.c.returned_on)
    source = (
        select(
            day,
            imported_returns.c.item_id,
            imported_returns.c.reason,
            func.sum(imported_returns.c.quantity),
        )
        .where(which)
        .group_by(day, imported_returns.c.item_id, imported_returns.c.reason)
    )
    _add(connection, returns_by_sale_day, source)


def recount(connection: Connection) -> None:
    """Count every line again from scratch: after lines were written around the writers
    (a bulk load with SQL, a repair by hand)."""
    connection.execute(delete(sales_by_day))
    connection.execute(delete(returns_by_sale_day))
    count_sales(connection, true())
    count_received(connection, return_units.c.return_line_id.is_not(None))
    count_imported_returns(connection, true())


def _add(connection: Connection, table: Table, source) -> None:
    connection.execute(_upsert(connection, table, source))


def _upsert(connection: Connection, table: Table, source) -> Insert:
    """Add `source`'s (key..., units) rows to `table`, in key order."""
    key = [c.name for c in table.primary_key.columns]
    # SQLite wants a WHERE before ON CONFLICT to parse it.
    source = source.where(true()).order_by(*list(source.selected_columns)[: len(key)])
    stmt = upsert(connection, table).from_select([*key, "units"], source)
    return stmt.on_conflict_do_update(
        index_elements=key, set_={"units": table.c.units + stmt.excluded.units}
    )
