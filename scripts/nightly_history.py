"""Load bench_nightly's synthetic history (items, sales, returns, units, stock) into a database.

Loading is not what the benchmark measures, but at 1,000,000 series it is 40 million sales
lines and 30 million returned units: formatted row by row in Python and kept indexed while they
went in, that took longer than the run it prepares. So on PostgreSQL the big tables go in
set-based: the numbers travel as binary COPY packed by numpy into unlogged staging tables, one
INSERT ... SELECT per table spells out the rest (references, dates, codes) in the server, with
foreign-key triggers off (the rows are consistent by construction) and the secondary indexes
built once afterwards. A VACUUM ANALYZE then leaves the tables as a database that has lived with
its data would be (hint bits set, statistics known), so autovacuum does not start on them in the
middle of the timed run. SQLite keeps the portable row-by-row path.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
from sqlalchemy import text

from forecasting.panel import GRADES, REASONS
from forecasting.synthetic import make_apparel_panel
from returns_inventory.domain.weeks import monday_of
from returns_inventory.persistence.bulk import PGCOPY_SIGNATURE
from returns_inventory.services.planning_inputs import last_complete_week

BLOCK = 200_000
BINARY_BLOCK = 1_000_000  # rows packed at a time into binary COPY
NOW = "2026-01-01 00:00:00+00:00"
STATUS = {"A": "restocked", "B": "second_quality", "C": "in_repair", "D": "written_off",
          "": "awaiting_grading"}
BIG_TABLES = ("sales_lines", "returns", "return_lines", "return_units")


def load_history(engine, n_series: int, seed: int, as_of: date) -> dict:
    panel = make_apparel_panel(n_series, n_weeks=104, seed=seed)
    first_monday = monday_of(last_complete_week(as_of) - 103)
    loader = Loader(engine)
    n = len(panel.sales.ids)
    figures = {"items": _load_items(loader, panel)}
    loader.load("locations", ("id", "code", "name", "type", "allow_negative"),
                [(1, "WH1", "Warehouse", "warehouse", False)])
    # One sales line per series and week with sales, sold on the Wednesday.
    rows, weeks = np.nonzero(panel.sales.y)
    qty = panel.sales.y[rows, weeks].astype(np.int64)
    line_id = np.full(panel.sales.y.shape, -1, dtype=np.int64)
    line_id[rows, weeks] = np.arange(1, len(rows) + 1)
    returns = _returns_of(panel, line_id)
    on_hand = panel.stock.on_hand.astype(np.int64).tolist()
    if loader.postgres:
        figures.update(_load_big_postgres(engine, first_monday, rows, weeks, qty, returns))
    else:
        figures.update(_load_big_rows(loader, first_monday, rows, weeks, qty, returns))
    figures["stock_balances"] = loader.load(
        "stock_balances", ("id", "item_id", "location_id", "condition", "on_hand", "reserved",
                           "updated_at"),
        ((i + 1, i + 1, 1, "sellable", on_hand[i], 0, NOW) for i in range(n)))
    loader.reset_sequences(["items", "locations", "sales_lines", "returns", "return_lines",
                            "return_units", "stock_balances"])
    return figures


def _load_items(loader, panel) -> int:
    n = len(panel.sales.ids)
    sku, size = np.char.partition(panel.sales.ids.astype(str), "|")[:, [0, 2]].T
    cost = panel.items.unit_cost
    return loader.load(
        "items", ("id", "sku", "size", "category", "unit_cost", "price", "lead_time_days",
                  "case_pack", "min_order_qty", "updated_at"),
        ((i + 1, sku[i], size[i], panel.items.category[i], f"{cost[i]:.2f}",
          f"{cost[i] * 2.5:.2f}", int(panel.items.lead_time[i]) * 7, 1, 1, NOW)
         for i in range(n)))


def _returns_of(panel, line_id) -> dict[str, np.ndarray]:
    """Returned units grouped into one return (of one line) per series, sale week and reason:
    per group (numbered from 1) its sales line, item, sale week, reason and units; per unit
    its group, item, grade and receipt week."""
    r = panel.returns
    order = np.lexsort((r.reason, r.sale_week, r.series))
    series, sale, reason = r.series[order], r.sale_week[order], r.reason[order]
    key = (series.astype(np.int64) * 104 + sale) * 16 + reason
    new = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(new)
    return {
        "group_sales_line": line_id[series[starts], sale[starts]],
        "group_item": series[starts].astype(np.int64) + 1, "group_sale": sale[starts],
        "group_reason": reason[starts], "group_units": np.diff(np.r_[starts, len(key)]),
        "unit_group": np.cumsum(new), "unit_item": series.astype(np.int64) + 1,
        "unit_grade": r.grade[order], "unit_receipt": r.receipt_week[order],
    }


# --- PostgreSQL: binary COPY into staging, INSERT ... SELECT, indexes afterwards ---------

STAGING = {
    "bench_sales": "id bigint, item int, week int, qty int",
    "bench_groups": "id int, sales_line bigint, item int, sale int, reason int, units int",
    "bench_units": "id int, grp int, item int, grade int, receipt int",
}


def _load_big_postgres(engine, first_monday: date, rows, weeks, qty, ret) -> dict:
    n_groups, n_units = len(ret["group_item"]), len(ret["unit_item"])
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns in STAGING.items():
            cursor.execute(f"CREATE UNLOGGED TABLE {table} ({columns})")
        copy_binary(cursor, "bench_sales", {
            "id": np.arange(1, len(rows) + 1, dtype=np.int64), "item": rows + 1,
            "week": weeks, "qty": qty})
        copy_binary(cursor, "bench_groups", {
            "id": np.arange(1, n_groups + 1), "sales_line": ret["group_sales_line"],
            "item": ret["group_item"], "sale": ret["group_sale"],
            "reason": ret["group_reason"], "units": ret["group_units"]})
        copy_binary(cursor, "bench_units", {
            "id": np.arange(1, n_units + 1), "grp": ret["unit_group"],
            "item": ret["unit_item"], "grade": ret["unit_grade"],
            "receipt": ret["unit_receipt"]})
        # The rows are consistent by construction: no foreign-key trigger per row.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        indexes = [sql for table in BIG_TABLES for sql in _drop_secondary_indexes(cursor, table)]
        params = {"first": first_monday, "now": NOW, "reasons": list(REASONS),
                  "grades": list(GRADES), "statuses": [STATUS[g] for g in GRADES]}
        for statement in INSERTS:
            cursor.execute(statement, params)
        for sql in indexes:
            cursor.execute(sql)
        for table in STAGING:
            cursor.execute(f"DROP TABLE {table}")
        cursor.execute("SET session_replication_role = DEFAULT")
        raw.commit()
        raw.driver_connection.autocommit = True
        for table in BIG_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    finally:
        raw.close()
    return {"sales_lines": len(rows), "returns": n_groups, "return_lines": n_groups,
            "return_units": n_units}


INSERTS = (
    """INSERT INTO sales_lines (id, order_ref, line_ref, sold_on, item_id, quantity,
                                unit_price, channel, location_id)
       SELECT id, 'B' || id, '1', %(first)s::date + week * 7 + 2, item, qty, 10.00, 'online', 1
       FROM bench_sales""",
    """INSERT INTO returns (id, rma, order_ref, sold_channel, status, shipping_paid_by,
                            requested_on, actor, created_at, updated_at)
       SELECT id, 'RMA-B' || id, 'B' || sales_line, 'online', 'received', 'customer',
              %(first)s::date + sale * 7 + 4, 'bench', %(now)s, %(now)s
       FROM bench_groups""",
    """INSERT INTO return_lines (id, return_id, line_no, sales_line_id, item_id, quantity,
                                 received_quantity, reason, resolution)
       SELECT id, id, 1, sales_line, item, units, units, (%(reasons)s::text[])[reason + 1],
              'refund'
       FROM bench_groups""",
    """INSERT INTO return_units (id, unit_code, return_id, return_line_id, item_id,
                                 location_id, status, grade, defects, received_at, received_by)
       SELECT id, 'B' || id, grp, grp, item, 1, (%(statuses)s::text[])[grade + 1],
              NULLIF((%(grades)s::text[])[grade + 1], ''), '[]',
              (%(first)s::date + receipt * 7 + 4 + time '12:00') AT TIME ZONE 'UTC', 'bench'
       FROM bench_units""",
)


def _drop_secondary_indexes(cursor, table: str) -> list[str]:
    """Drop the table's indexes and unique constraints other than its primary key; return
    the SQL that makes them again (one sorted build beats millions of insertions)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'u'", (table,))
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)", (table,))
    indexes = cursor.fetchall()
    remake = []
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        remake.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
        remake.append(definition)
    return remake


def copy_binary(cursor, table: str, columns: dict[str, np.ndarray]) -> None:
    """Integer columns into ``table`` as one binary COPY, packed by numpy a block at a time
    (PostgreSQL's format: per row a field count, then per field its length and bytes)."""
    names = list(columns)
    n = len(columns[names[0]])
    declared = dict(part.split() for part in STAGING[table].split(", "))
    kinds = [">i8" if declared[c] == "bigint" else ">i4" for c in names]
    layout = [("fields", ">i2")]
    for c, kind in zip(names, kinds, strict=True):
        layout += [(f"{c}_size", ">i4"), (c, kind)]
    record = np.dtype(layout)  # packed: no padding between fields, as the format wants
    with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(PGCOPY_SIGNATURE + bytes(8))  # no flags, no header extension
        for a in range(0, n, BINARY_BLOCK):
            b = min(n, a + BINARY_BLOCK)
            block = np.empty(b - a, dtype=record)
            block["fields"] = len(names)
            for c, kind in zip(names, kinds, strict=True):
                block[f"{c}_size"] = np.dtype(kind).itemsize
                block[c] = columns[c][a:b]
            copy.write(block.tobytes())
        copy.write(b"\xff\xff")


# --- SQLite (and small runs): the portable row-by-row path -------------------------------

def _load_big_rows(loader, first_monday: date, rows, weeks, qty, ret) -> dict:
    days = [(first_monday + timedelta(weeks=w, days=2)).isoformat() for w in range(104)]
    figures = {"sales_lines": loader.load(
        "sales_lines", ("id", "order_ref", "line_ref", "sold_on", "item_id", "quantity",
                        "unit_price", "channel", "location_id"),
        ((k + 1, f"B{k + 1}", "1", days[w], r + 1, q, "10.00", "online", 1)
         for k, (r, w, q) in enumerate(zip(rows.tolist(), weeks.tolist(), qty.tolist(),
                                           strict=True))))}
    day = [(first_monday + timedelta(weeks=w, days=4)).isoformat() for w in range(104 + 10)]
    line, item = ret["group_sales_line"].tolist(), ret["group_item"].tolist()
    sale, reason = ret["group_sale"].tolist(), ret["group_reason"].tolist()
    units = ret["group_units"].tolist()
    figures["returns"] = loader.load(
        "returns", ("id", "rma", "order_ref", "sold_channel", "status", "shipping_paid_by",
                    "requested_on", "actor", "created_at", "updated_at"),
        ((k + 1, f"RMA-B{k + 1}", f"B{line[k]}", "online", "received", "customer",
          day[sale[k]], "bench", NOW, NOW) for k in range(len(line))))
    figures["return_lines"] = loader.load(
        "return_lines", ("id", "return_id", "line_no", "sales_line_id", "item_id", "quantity",
                         "received_quantity", "reason", "resolution"),
        ((k + 1, k + 1, 1, line[k], item[k], units[k], units[k], REASONS[reason[k]], "refund")
         for k in range(len(line))))
    group, unit_item = ret["unit_group"].tolist(), ret["unit_item"].tolist()
    grade, receipt = ret["unit_grade"].tolist(), ret["unit_receipt"].tolist()
    figures["return_units"] = loader.load(
        "return_units", ("id", "unit_code", "return_id", "return_line_id", "item_id",
                         "location_id", "status", "grade", "defects", "received_at",
                         "received_by"),
        ((u + 1, f"B{u + 1}", group[u], group[u], unit_item[u], 1, STATUS[GRADES[grade[u]]],
          GRADES[grade[u]] or None, "[]", f"{day[receipt[u]]} 12:00:00+00:00", "bench")
         for u in range(len(group))))
    return figures


class Loader:
    """COPY (text) on PostgreSQL, executemany on SQLite."""

    def __init__(self, engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable) -> int:
        count = 0
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.postgres:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    buffer = io.StringIO()
                    for row in rows:
                        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
                        buffer.write("\n")
                        count += 1
                        if count % BLOCK == 0:
                            copy.write(buffer.getvalue())
                            buffer = io.StringIO()
                    copy.write(buffer.getvalue())
            else:
                sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
                       f"VALUES ({', '.join('?' * len(columns))})")
                batch = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == BLOCK:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                cursor.executemany(sql, batch)
                count += len(batch)
            raw.commit()
        finally:
            raw.close()
        return count

    def reset_sequences(self, tables: list[str]) -> None:
        if not self.postgres:
            return
        with self.engine.begin() as conn:
            for table in tables:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
            conn.execute(text("ANALYZE"))
