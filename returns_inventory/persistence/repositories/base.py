"""Helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Executable, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite

from ..batch import WriteBatch


def utcnow() -> datetime:
    return datetime.now(UTC)


def upsert(connection: Connection, table: Table) -> Insert:
    """The dialect's INSERT that understands ON CONFLICT."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Repository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def _write(self, statement: Executable, row: dict[str, Any], batch: WriteBatch | None
               ) -> None:
        """Write the row now, or keep it in the batch to be sent when the batch ends."""
        if batch is None:
            self.connection.execute(statement, row)
        else:
            batch.keep(statement, row)

    @property
    def is_postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"
