"""Helpers shared by the repositories."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def upsert(connection: Connection, table: Table) -> Insert:
    """The dialect's INSERT that understands ON CONFLICT."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


class Repository:
    def __init__(self, connection: Connection):
        self.connection = connection

    @property
    def is_postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"
