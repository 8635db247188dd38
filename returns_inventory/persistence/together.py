"""Single-row writes sent to PostgreSQL as one statement of data-modifying CTEs.

A grade writes a ledger line per stock leg, the unit, its grading record and its inspection
outcome: through SQLAlchemy each row was a statement of its own, and each statement cost
more CPU in SQLAlchemy's execution context and psycopg than PostgreSQL spent on it. Here the
rows' statements are compiled once per shape, joined as `WITH w0 AS (...), w1 AS (...) ...`
and sent through the DBAPI cursor of the same connection, in the same transaction: one round
trip, one execution context of psycopg's, and one prepared statement per shape.

Every sub-statement sees the database as it was before the statement: the rows must not
depend on each other (no row reads another, no two rows change the same row), which is
`WriteBatch`'s rule anyway. Foreign keys are checked at the end of the statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import RawCursor
from psycopg.pq import ExecStatus
from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

_BIND = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class _Part:
    """One statement compiled for one set of row keys: its SQL (named pyformat binds), and
    how a row's values become the DBAPI's."""

    sql: str
    compiled: Any  # sqlalchemy.engine.Compiled
    processors: dict[str, Any]


@dataclass(frozen=True)
class _Joined:
    """The statement of several parts with PostgreSQL's own `$n` parameters (psycopg's
    RawCursor sends it as it is: parsing a long statement's `%(name)s` on every call cost
    more than the rest of the call), and which part's bind each `$n` takes."""

    sql: bytes
    binds: tuple[tuple[int, int, str], ...]  # (part, row, bind name)


_PARTS: dict[tuple[Executable, tuple[str, ...]], _Part] = {}
_JOINED: dict[tuple[tuple[int, int], ...], _Joined] = {}


def _part(dialect: Dialect, statement: Executable, keys: tuple[str, ...]) -> _Part:
    found = _PARTS.get((statement, keys))
    if found is None:
        # As for executemany: no RETURNING of the new row's key, which nobody reads.
        compiled = statement.compile(  # type: ignore[attr-defined]
            dialect=dialect, column_keys=list(keys), for_executemany=True)
        processors = {name: p for name, p in compiled._bind_processors.items() if p}
        found = _PARTS.setdefault((statement, keys), _Part(compiled.string, compiled,
                                                           processors))
    return found


def _joined(parts: Sequence[_Part], counts: Sequence[int]) -> _Joined:
    """`WITH w0 AS (first), w1 AS (second) ... last`, binds numbered in order of appearance.
    An INSERT of several rows is one multi-row VALUES, so their ids follow the rows' order
    (separate sub-statements on one table run in no set order); an UPDATE of several rows is
    one sub-statement a row."""
    shape = tuple(zip((id(p) for p in parts), counts, strict=True))
    found = _JOINED.get(shape)
    if found is None:
        binds: dict[tuple[int, int, str], int] = {}

        def numbered(sql: str, n: int, row: int) -> str:
            return _BIND.sub(lambda m: f"${binds.setdefault((n, row, m.group(1)), len(binds) + 1)}",
                             sql)

        statements = []
        for n, (part, count) in enumerate(zip(parts, counts, strict=True)):
            sql = part.sql.replace("%%", "%")
            head, values, tail = sql.partition(" VALUES ")
            if values and sql.startswith("INSERT") and " RETURNING " not in tail:
                statements.append(head + values + ", ".join(
                    numbered(tail, n, row) for row in range(count)))
            else:
                statements += [numbered(sql, n, row) for row in range(count)]
        *ctes, last = statements
        sql = ("WITH " + ", ".join(f"w{n} AS ({s})" for n, s in enumerate(ctes)) + " " + last
               if ctes else last)
        found = _JOINED.setdefault(shape, _Joined(sql.encode(), tuple(binds)))
    return found


def send_together(connection: Connection,
                  writes: Sequence[tuple[Executable, Sequence[dict[str, Any]]]]) -> None:
    """Send each statement's rows, for every (statement, rows), in one PostgreSQL statement
    on this connection's current transaction. The statements must be INSERT ... VALUES or
    UPDATE, without RETURNING, and a statement's rows must all have the same keys."""
    writes = [(statement, rows) for statement, rows in writes if rows]
    if not writes:
        return
    dialect = connection.dialect
    parts = [_part(dialect, statement, tuple(rows[0])) for statement, rows in writes]
    joined = _joined(parts, [len(rows) for _, rows in writes])
    values: dict[tuple[int, int], dict[str, Any]] = {}
    for n, (part, (_, rows)) in enumerate(zip(parts, writes, strict=True)):
        for r, row in enumerate(rows):
            constructed = part.compiled.construct_params(row)
            for name, processor in part.processors.items():
                if name in constructed:
                    constructed[name] = processor(constructed[name])
            values[n, r] = constructed
    execute_raw(connection, joined.sql, [values[n, r][name] for n, r, name in joined.binds])


def execute_raw(connection: Connection, sql: bytes, params: Sequence[Any]) -> list[tuple]:
    """Run SQL with PostgreSQL's `$n` parameters on the connection's DBAPI cursor, in its
    current transaction: psycopg's RawCursor, no SQLAlchemy execution context. The rows it
    returns, if any, as tuples."""
    return _run(connection, sql, params)[0]


def _run(connection: Connection, sql: bytes, params: Sequence[Any], *, describe: bool = False
         ) -> tuple[list[tuple], list[Any] | None]:
    """The rows, and with `describe` the columns (psycopg builds them anew on every look at
    `cursor.description`: for 50 columns that cost as much as the statement)."""
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    try:
        with RawCursor(driver) as cursor:  # type: ignore[arg-type]
            cursor.execute(sql, params)
            result = cursor.pgresult
            if result is None or result.status != ExecStatus.TUPLES_OK:
                return [], None
            return cursor.fetchall(), cursor.description if describe else None
    except dialect.loaded_dbapi.Error as error:
        # The same exceptions as through SQLAlchemy (IntegrityError, DataError...).
        raise DBAPIError.instance(sql.decode(), params, error,
                                  dialect.loaded_dbapi.Error) from error


@dataclass(frozen=True)
class RawSelect:
    """A SQLAlchemy SELECT compiled once for psycopg's RawCursor: `$n` binds in the order
    `binds` names them, each value through its type's bind processor, and each column of the
    answer through its result processor, as SQLAlchemy would."""

    sql: bytes
    binds: tuple[str, ...]
    bind_processors: dict[str, Any]
    columns: tuple[str, ...]
    types: tuple[Any, ...]
    # Found on the first answer: a type's processor depends on the column's type there.
    result_processors: list[tuple[Any, ...]]

    @classmethod
    def of(cls, statement: Executable, dialect: Dialect) -> RawSelect:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        binds: dict[str, int] = {}
        sql = _BIND.sub(lambda m: f"${binds.setdefault(m.group(1), len(binds) + 1)}",
                        compiled.string.replace("%%", "%"))
        return cls(sql.encode(), tuple(binds),
                   {name: p for name, p in compiled._bind_processors.items() if p},
                   tuple(c[0] for c in compiled._result_columns),
                   tuple(c[3] for c in compiled._result_columns), [])

    def rows(self, connection: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The answer's rows as dicts by column name."""
        values = []
        for name in self.binds:
            processor = self.bind_processors.get(name)
            values.append(processor(params[name]) if processor else params[name])
        rows, description = _run(connection, self.sql, values,
                                 describe=not self.result_processors)
        if not self.result_processors and description is not None:
            dialect = connection.dialect
            self.result_processors.append(tuple(
                kind._cached_result_processor(dialect, column.type_code)
                for kind, column in zip(self.types, description, strict=True)))
        processors = self.result_processors[0] if rows else ()
        return [{name: processor(value) if processor else value
                 for name, processor, value in zip(self.columns, processors, row, strict=True)}
                for row in rows]
