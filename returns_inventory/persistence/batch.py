"""A batch of writes that a unit of work sends together, one statement each, when it ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable

from ..domain.stock import Movement
from .together import send_together


@dataclass(eq=False)
class WriteBatch:
    """What `UnitOfWork.batched()` keeps until its block ends.

    On PostgreSQL every row kept here is written by one statement of data-modifying CTEs
    (persistence/together.py), so a grade or a tote of them costs one round trip; elsewhere
    with one executemany per statement, in the order each statement was first used. Code
    inside the block must not read those rows back, nor need their ids, and no two rows may
    depend on each other (the same row changed twice, a row reading another).
    """

    rows: dict[Executable, list[dict[str, Any]]] = field(default_factory=dict)
    # Stock movements kept to be posted in one statement when services.ledger.posting_together
    # ends; None while movements are posted one by one.
    movements: list[Movement] | None = None

    def keep(self, statement: Executable, row: dict[str, Any]) -> None:
        self.rows.setdefault(statement, []).append(row)

    def send(self, connection: Connection) -> None:
        rows, self.rows = self.rows, {}
        if connection.dialect.name == "postgresql":
            send_together(connection, list(rows.items()))
            return
        for statement, kept in rows.items():
            # One row (a single grade's) as a plain execute: executemany's setup (psycopg's
            # pipeline, SQLAlchemy's many-rows context) cost more CPU than the row.
            connection.execute(statement, kept[0] if len(kept) == 1 else kept)
