"""Checks on staged historical returns, and their insert into `imported_returns`.

Set-based like the other merges: a file of a million returned lines is a handful of
statements, whatever its size.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, and_, func, literal, not_, or_, select, true

from ..returns_tables import imported_returns
from ..tables import items, sales_lines
from . import day_summary
from .base import upsert
from .import_staging import first_rows


def _sale_join(staged: Table):
    return and_(sales_lines.c.order_ref == staged.c.order_ref,
                sales_lines.c.line_ref == staged.c.line_ref)


def _item_join(staged: Table):
    return and_(items.c.sku == staged.c.sku, items.c.size == staged.c.size)


def unknown_sales(connection: Connection, staged: Table, limit: int):
    """Rows naming an order line no sale has."""
    query = (
        select(staged.c.row_no, staged.c.order_ref, staged.c.line_ref)
        .select_from(staged.outerjoin(sales_lines, _sale_join(staged)))
        .where(staged.c.order_ref.is_not(None), sales_lines.c.id.is_(None))
    )
    return first_rows(connection, query, limit)


def unknown_items(connection: Connection, staged: Table, limit: int):
    """Rows without an order line whose sku and size name no item."""
    query = (
        select(staged.c.row_no, staged.c.sku, staged.c.size)
        .select_from(staged.outerjoin(items, _item_join(staged)))
        .where(staged.c.order_ref.is_(None), items.c.id.is_(None))
    )
    return first_rows(connection, query, limit)


def other_item_than_sold(connection: Connection, staged: Table, limit: int):
    """Rows whose sku and size are not the item their order line sold."""
    query = (
        select(staged.c.row_no, items.c.sku, items.c.size)
        .select_from(staged.join(sales_lines, _sale_join(staged))
                     .join(items, items.c.id == sales_lines.c.item_id))
        .where(staged.c.sku.is_not(None),
               or_(items.c.sku != staged.c.sku, items.c.size != staged.c.size))
    )
    return first_rows(connection, query, limit)


def returned_before_sold(connection: Connection, staged: Table, limit: int):
    """Rows dated before the sale of their order line."""
    query = (
        select(staged.c.row_no, sales_lines.c.sold_on)
        .select_from(staged.join(sales_lines, _sale_join(staged)))
        .where(staged.c.returned_on < sales_lines.c.sold_on)
    )
    return first_rows(connection, query, limit)


def more_than_sold(connection: Connection, staged: Table, limit: int):
    """Rows of an order line whose new returns, with those imported before, exceed what it
    sold. Lines already imported (a re-sent file) are counted once, as stored."""
    already = select(imported_returns.c.id).where(
        imported_returns.c.return_ref == staged.c.return_ref,
        imported_returns.c.return_line_ref == staged.c.return_line_ref,
    ).exists()
    new = (
        select(sales_lines.c.id.label("sale_id"), func.sum(staged.c.quantity).label("units"))
        .select_from(staged.join(sales_lines, _sale_join(staged)))
        .where(not_(already))
        .group_by(sales_lines.c.id)
        .subquery()
    )
    before = (
        select(imported_returns.c.sales_line_id.label("sale_id"),
               func.sum(imported_returns.c.quantity).label("units"))
        .where(imported_returns.c.sales_line_id.in_(select(new.c.sale_id)))
        .group_by(imported_returns.c.sales_line_id)
        .subquery()
    )
    over = (
        select(new.c.sale_id, sales_lines.c.quantity.label("sold"),
               func.coalesce(before.c.units, 0).label("before"))
        .select_from(new.join(sales_lines, sales_lines.c.id == new.c.sale_id)
                     .outerjoin(before, before.c.sale_id == new.c.sale_id))
        .where(new.c.units + func.coalesce(before.c.units, 0) > sales_lines.c.quantity)
        .subquery()
    )
    query = (
        select(staged.c.row_no, over.c.sold, over.c.before)
        .select_from(staged.join(sales_lines, _sale_join(staged))
                     .join(over, over.c.sale_id == sales_lines.c.id))
        .where(not_(already))
    )
    return first_rows(connection, query, limit)


def insert_returns(connection: Connection, staged: Table, batch_id: int, *,
                   strict: bool = False) -> int:
    """Add returned lines not seen before; a line already stored is left exactly as it was.

    `strict` leaves out every row a check above would refuse: one naming no sale or item,
    another item than sold, returned before the sale, or of a line whose returns in the file
    and stored before add up to more than it sold (a line re-sent counts twice there, which
    only ever leaves out too much). Adding a row per staged row then proves the file clean."""
    sold_item = func.coalesce(sales_lines.c.item_id, items.c.id)
    rows = (
        select(
            staged.c.row_no, staged.c.return_ref, staged.c.return_line_ref,
            sales_lines.c.id.label("sales_line_id"), sold_item.label("item_id"),
            func.coalesce(sales_lines.c.sold_on, staged.c.sold_on).label("sold_on"),
            staged.c.customer, staged.c.returned_on, staged.c.quantity,
            staged.c.our_reason.label("reason"), staged.c.reason.label("erp_reason"),
            staged.c.received_on, staged.c.grade, staged.c.disposition,
            sales_lines.c.quantity.label("sold"),
            func.sum(staged.c.quantity).over(partition_by=sales_lines.c.id).label("units"),
        )
        .select_from(
            staged.outerjoin(sales_lines, _sale_join(staged))
            .outerjoin(items, _item_join(staged))
        )
    )
    if strict:
        rows = rows.where(
            or_(staged.c.order_ref.is_(None), sales_lines.c.id.is_not(None)),  # unknown_sales
            sold_item.is_not(None),  # unknown_items
            or_(staged.c.sku.is_(None), sales_lines.c.id.is_(None),  # other_item_than_sold
                items.c.id == sales_lines.c.item_id),
            or_(sales_lines.c.id.is_(None),  # returned_before_sold
                staged.c.returned_on >= sales_lines.c.sold_on),
        )
    new = rows.subquery()
    columns = ["return_ref", "return_line_ref", "sales_line_id", "item_id", "sold_on",
               "customer", "returned_on", "quantity", "reason", "erp_reason", "received_on",
               "grade", "disposition"]
    source = select(*(new.c[c] for c in columns),
                    literal(batch_id, imported_returns.c.batch_id.type))
    if strict:
        before = (
            select(imported_returns.c.sales_line_id,
                   func.sum(imported_returns.c.quantity).label("units"))
            .group_by(imported_returns.c.sales_line_id)
            .subquery()
        )
        source = source.select_from(
            new.outerjoin(before, before.c.sales_line_id == new.c.sales_line_id)
        ).where(or_(new.c.sales_line_id.is_(None),  # more_than_sold
                    new.c.units + func.coalesce(before.c.units, 0) <= new.c.sold))
    else:
        source = source.where(true())  # SQLite wants a WHERE before ON CONFLICT
    source = source.order_by(new.c.row_no)  # ids in the file's order
    stmt = (
        upsert(connection, imported_returns)
        .from_select([*columns, "batch_id"], source)
        .on_conflict_do_nothing(index_elements=["return_ref", "return_line_ref"])
    )
    added = connection.execute(stmt, execution_options={"preserve_rowcount": True}).rowcount
    if added:  # the lines this batch inserted carry its id; a re-sent line keeps its own
        day_summary.count_imported_returns(connection, imported_returns.c.batch_id == batch_id)
    return added
