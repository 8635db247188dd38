"""Helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Executable, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


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
        self._collected: dict[Executable, list[dict[str, Any]]] | None = None

    def collect_writes(self) -> None:
        """From now on, writes that support it are kept, to be sent by flush_writes."""
        self._collected = {}

    def flush_writes(self) -> None:
        """Send the kept writes, one executemany per statement, and stop collecting."""
        collected, self._collected = self._collected or {}, None
        for statement, rows in collected.items():
            self.connection.execute(statement, rows)

    def _collect(self, statement: Executable, row: dict[str, Any]) -> bool:
        """Keep the write if collecting (True), else leave it to the caller (False)."""
        if self._collected is None:
            return False
        self._collected.setdefault(statement, []).append(row)
        return True

    @property
    def is_postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"
