"""Engines: SQLite tuned for an embedded service, PostgreSQL as given."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# Execution option for connections that only read: on SQLite they skip the write lock.
READ_ONLY = "ri_read_only"


def make_engine(database_url: str, *, sqlite_busy_timeout_ms: int = 15000, **kwargs) -> Engine:
    """Build an engine; SQLite gets WAL, foreign keys, a busy timeout and write-ahead locking."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": sqlite_busy_timeout_ms / 1000}, **kwargs
    )
    _tune_sqlite(engine, sqlite_busy_timeout_ms)
    return engine


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling defers BEGIN; we issue it ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get(READ_ONLY):
            # A pure read (the readiness probe) must not queue behind a long import.
            conn.exec_driver_sql("BEGIN")
            return
        # IMMEDIATE takes the write lock up front, so a read-then-write transaction can never
        # be refused half way with "database is locked": writers queue on the busy timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")
