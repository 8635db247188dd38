"""Staging tables: an import's rows land in a temporary table first, are checked there in
SQL (duplicates, unknown references), and only then merged into the real tables.

Checking in the database keeps the service's memory flat however many rows a file has:
Python never holds the set of a million order references.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from datetime import date

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    and_,
    func,
    select,
)

from ..tables import Money

staging_metadata = MetaData()


def _staged(kind: str, *columns: Column) -> Table:
    return Table(
        f"staged_{kind.replace('-', '_')}",
        staging_metadata,
        # No key or index: maintaining one cost the COPY of a million rows seconds, and only
        # the checks of a file that needs them read row_no (once each, in a sort).
        Column("row_no", Integer, nullable=False),
        *columns,
        prefixes=["TEMPORARY"],
    )


def _sku_size() -> list[Column]:
    return [Column("sku", String(64), nullable=False), Column("size", String(32), nullable=False)]


# Columns in the order of the import kind's columns (services/import_schemas.py), then
# any the service adds.
STAGED: dict[str, Table] = {
    "items": _staged(
        "items",
        *_sku_size(),
        Column("gtin", String(14)),
        Column("category", String(64)),
        Column("description", String(255)),
        Column("unit_cost", Money),
        Column("price", Money),
        Column("supplier", String(64)),
        Column("lead_time_days", Integer),
        Column("case_pack", Integer),
        Column("min_order_qty", Integer),
        Column("launched_on", Date),
        Column("factory", String(64)),
        Column("season", String(32)),
        Column("fabric", String(64)),
        Column("image_url", String(500)),
    ),
    "locations": _staged(
        "locations",
        Column("code", String(32)),
        Column("name", String(128)),
        Column("type", String(16)),
        Column("allow_negative", Boolean),
    ),
    "sales": _staged(
        "sales",
        Column("sold_on", Date),
        Column("order_ref", String(64)),
        Column("line_ref", String(64)),
        *_sku_size(),
        Column("quantity", Integer),
        Column("unit_price", Money),
        Column("channel", String(16)),
        Column("location", String(32)),
    ),
    "stock": _staged(
        "stock",
        *_sku_size(),
        Column("location", String(32)),
        Column("condition", String(16)),
        Column("on_hand", Integer),
    ),
    "purchase-orders": _staged(
        "purchase-orders",
        Column("po_ref", String(64)),
        Column("line_ref", String(64)),
        *_sku_size(),
        Column("location", String(32)),
        Column("quantity", Integer),
        Column("expected_on", Date),
        Column("received_quantity", Integer),
        Column("status", String(16)),
    ),
    # Then what the service adds to each row: our reason code for the ERP's.
    "returns": _staged(
        "returns",
        Column("return_ref", String(64)),
        Column("return_line_ref", String(64)),
        Column("returned_on", Date),
        Column("quantity", Integer),
        Column("reason", String(64)),
        Column("order_ref", String(64)),
        Column("line_ref", String(64)),
        Column("sku", String(64)),
        Column("size", String(32)),
        Column("customer", String(64)),
        Column("sold_on", Date),
        Column("received_on", Date),
        Column("grade", String(1)),
        Column("disposition", String(32)),
        Column("our_reason", String(32)),
    ),
}


class StagingLoader:
    """Append rows (row_no, *values) to a fresh staging table.

    PostgreSQL gets one COPY stream (psycopg 3 `cursor.copy`); SQLite gets executemany in
    batches of `batch_size`. Either way only one batch is ever held in memory.
    """

    def __init__(self, connection: Connection, table: Table, batch_size: int):
        self.connection, self.table, self.batch_size = connection, table, batch_size
        self.count = 0
        self._batch: list[tuple] = []
        self._stack = ExitStack()
        self._copy = None

    def __enter__(self) -> StagingLoader:
        # A previous import on this connection may have left its table (tests share one).
        self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table.name}")
        self.table.create(self.connection)
        names = ", ".join(c.name for c in self.table.columns)
        if self.connection.dialect.name == "postgresql":
            cursor = self._stack.enter_context(
                self.connection.connection.driver_connection.cursor()
            )
            self._copy = self._stack.enter_context(
                cursor.copy(f"COPY {self.table.name} ({names}) FROM STDIN")
            )
        else:
            marks = ", ".join("?" for _ in self.table.columns)
            self._insert = f"INSERT INTO {self.table.name} ({names}) VALUES ({marks})"
            self._convert = [
                (i, _SQLITE_VALUE[type(c.type)])
                for i, c in enumerate(self.table.columns)
                if type(c.type) in _SQLITE_VALUE
            ]
        return self

    def add(self, row: Sequence) -> None:
        self.count += 1
        if self._copy is not None:
            self._copy.write_row(row)
            return
        if self._convert:
            row = list(row)
            for i, convert in self._convert:
                if row[i] is not None:
                    row[i] = convert(row[i])
        self._batch.append(tuple(row))
        if len(self._batch) >= self.batch_size:
            self._flush()

    def add_columns(self, row_nos: list[int], columns: list[list[str | None]]) -> None:
        """Append rows given column by column (after row_no) as the text the database reads
        for each column's type, None for NULL: no Python value per cell, one COPY write per
        batch on PostgreSQL."""
        if not row_nos:
            return
        self.count += len(row_nos)
        if self._copy is not None:
            texts = [list(map(str, row_nos)), *map(_copy_text, columns)]
            self._copy.write("\n".join(map("\t".join, zip(*texts, strict=True))) + "\n")
            return
        self._flush()
        self.connection.exec_driver_sql(self._insert, list(zip(row_nos, *columns, strict=True)))

    def _flush(self) -> None:
        if self._batch:
            self.connection.exec_driver_sql(self._insert, self._batch)
            self._batch = []

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stack.__exit__(exc_type, exc, tb)  # ends the COPY (or aborts it on error)
        if exc_type is None:
            self._flush()
            if self.connection.dialect.name == "postgresql":
                # A temp table has no statistics until analysed; the checks join on it.
                self.connection.exec_driver_sql(f"ANALYZE {self.table.name}")


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(values: list[str | None]) -> list[str]:
    """One column in COPY's text format: NULL as \\N; backslash, tab and newlines escaped."""
    if None in values:
        return ["\\N" if v is None else v.translate(_COPY_ESCAPES) for v in values]
    texts: list[str] = values  # type: ignore[assignment]  # no None, as just checked
    joined = "".join(texts)
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        return [v.translate(_COPY_ESCAPES) for v in texts]
    return texts


def _iso(value: date) -> str:
    return value.isoformat()


# sqlite3 has no adapters for these (and the default date adapter is deprecated).
_SQLITE_VALUE = {Date: _iso, Numeric: str, Boolean: int}


def drop(connection: Connection, table: Table) -> None:
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table.name}")


def first_rows(connection: Connection, query, limit: int) -> tuple[list, int]:
    """The first `limit` rows of a check (by row number) and how many there are in all."""
    sub = query.add_columns(func.count().over().label("total")).subquery()
    rows = connection.execute(select(sub).order_by(sub.c.row_no).limit(limit)).all()
    return rows, (rows[0].total if rows else 0)


def duplicate_rows(connection: Connection, table: Table, key: Sequence[str], limit: int):
    """Rows whose key already appeared on an earlier row of the same file, with that row."""
    columns = [table.c[name] for name in key]
    ranked = select(
        table.c.row_no,
        func.min(table.c.row_no).over(partition_by=columns).label("first_row"),
    ).where(and_(*(c.is_not(None) for c in columns)))
    ranked = ranked.subquery()
    query = select(ranked.c.row_no, ranked.c.first_row).where(ranked.c.row_no != ranked.c.first_row)
    return first_rows(connection, query, limit)
