"""Bulk reads into numpy and bulk writes, through the driver: COPY on PostgreSQL.

The nightly run moves millions of rows; building a SQLAlchemy Row (or even a Python tuple) per
row cost more than the queries themselves. On PostgreSQL integer results come back as one binary
COPY stream that numpy reads in place, and results go in with COPY FROM STDIN. Other databases
(SQLite, the embedded default) take the portable path through the DBAPI cursor.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from sqlalchemy import (
    Connection,
    Integer,
    LargeBinary,
    Select,
    Table,
    cast,
    func,
    literal,
    select,
)

PGCOPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
# Rows travel packed into this many bytea blocks at most: the protocol costs psycopg a few
# microseconds per message, which for millions of one-row messages was most of the read.
BLOCKS = 1024
COPY_BLOCK = 10_000  # rows formatted and sent at a time, so the text never sits whole in memory


def fetch_ints(connection: Connection, query: Select) -> np.ndarray:
    """Run a query whose columns are all non-null 32-bit integers, the first an id that spreads
    the rows; return them as a ``(rows, columns)`` int64 array, in no particular row order.

    Runs in the connection's current transaction (and so its snapshot).
    """
    ncols = len(query.selected_columns)
    blocks = list(stream_ints(connection, query))
    return np.concatenate(blocks) if blocks else np.zeros((0, ncols), dtype=np.int64)


def stream_ints(connection: Connection, query: Select) -> Iterator[np.ndarray]:
    """``fetch_ints`` a block of rows at a time, as they arrive: a caller that folds each
    block into its own arrays never holds the whole answer (at a million series, gigabytes)
    nor its bytes on the wire."""
    ncols = len(query.selected_columns)
    if connection.dialect.name != "postgresql":
        for rows in connection.execute(query).partitions(COPY_BLOCK):
            # Plain tuples first: numpy probing each Row for array protocols is slow.
            yield np.array([tuple(r) for r in rows], dtype=np.int64).reshape(-1, ncols)
        return
    inner = query.subquery()
    cols = list(inner.c)
    packed = functools.reduce(
        lambda a, b: a.op("||")(b), (func.int4send(cast(c, Integer)) for c in cols))
    blocks = select(func.string_agg(packed, literal(b"", LargeBinary))).group_by(
        cols[0] % BLOCKS)
    compiled = blocks.compile(dialect=connection.dialect,
                              compile_kwargs={"render_postcompile": True})
    driver = connection.connection.driver_connection
    reader = BinaryCopyReader()
    with driver.cursor() as cursor, cursor.copy(
        f"COPY ({compiled}) TO STDOUT (FORMAT BINARY)", compiled.params or None
    ) as copy:
        for data in copy:
            for field in reader.feed(data):
                yield np.frombuffer(field, dtype=">i4").reshape(-1, ncols).astype(np.int64)
    reader.close()


class BinaryCopyReader:
    """The values of a one-column, non-null binary COPY stream, fed in pieces as they arrive
    (PostgreSQL's documented format: signature, flags, header extension, then per row a field
    count and per field a length and the bytes; -1 as the field count ends it)."""

    def __init__(self) -> None:
        self.pending = b""
        self.started = False
        self.ended = False

    def feed(self, chunk) -> list[memoryview]:
        data = self.pending + bytes(chunk) if self.pending else bytes(chunk)
        pos = 0
        if not self.started:
            if not data.startswith(PGCOPY_SIGNATURE[: len(data)]):
                raise ValueError("not a binary COPY stream")
            if len(data) < 19 or len(data) < 19 + int.from_bytes(data[15:19], "big"):
                self.pending = data
                return []
            pos = 19 + int.from_bytes(data[15:19], "big")
            self.started = True
        view, out = memoryview(data), []
        while len(data) - pos >= 2 and not self.ended:
            count = int.from_bytes(data[pos : pos + 2], "big", signed=True)
            if count == -1:
                self.ended, pos = True, pos + 2
                break
            if count != 1:
                raise ValueError("malformed binary COPY stream")
            if len(data) - pos < 6:
                break
            size = int.from_bytes(data[pos + 2 : pos + 6], "big", signed=True)
            if size < 0:
                raise ValueError("unexpected NULL in a binary COPY stream")
            if len(data) - pos < 6 + size:
                break
            out.append(view[pos + 6 : pos + 6 + size])
            pos += 6 + size
        self.pending = data[pos:]
        return out

    def close(self) -> None:
        if not self.ended or self.pending:
            raise ValueError("malformed binary COPY stream")


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_column(values: list) -> list[str]:
    """One column in COPY's text format: NULL as \\N; backslash, tab and newlines escaped."""
    texts = ["\\N" if v is None else str(v) for v in values]
    joined = "".join(texts)
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        texts = [t if t == "\\N" and v is None else t.translate(COPY_ESCAPES)
                 for t, v in zip(texts, values, strict=True)]
    return texts


def copy_lines(columns: dict[str, list]) -> str:
    """Rows given column by column, as COPY text-format lines."""
    formatted = [copy_column(values) for values in columns.values()]
    return "".join("\t".join(row) + "\n" for row in zip(*formatted, strict=True))


def insert_columns(connection: Connection, table: Table, columns: dict[str, list], *,
                   json_columns: Sequence[str] = ()) -> None:
    """Insert rows given column by column (JSON columns as JSON text) in the current
    transaction: COPY on PostgreSQL, executemany elsewhere with each value passed through its
    column type as SQLAlchemy would."""
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    if not n:
        return
    if connection.dialect.name == "postgresql":
        copy_in(connection, table, names, (
            copy_lines({k: v[a : a + COPY_BLOCK] for k, v in columns.items()})
            for a in range(0, n, COPY_BLOCK)))
        return
    converted = []
    for name in names:
        process = (None if name in json_columns else
                   table.c[name].type.dialect_impl(connection.dialect)
                   .bind_processor(connection.dialect))
        values = columns[name]
        converted.append([process(v) for v in values] if process else values)
    placeholders = ", ".join("?" * len(names))
    connection.connection.driver_connection.executemany(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})",
        list(zip(*converted, strict=True)))


def copy_in(connection: Connection, table: Table, names: Sequence[str],
            blocks: Iterable[str]) -> None:
    """Stream COPY text-format lines into ``table`` in the current transaction (PostgreSQL)."""
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(
        f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    ) as copy:
        for block in blocks:
            copy.write(block)
