"""Engines: SQLite tuned for an embedded service, PostgreSQL as given."""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

# Execution option for connections that only read: on SQLite they skip the write lock.
READ_ONLY = "ri_read_only"
# A pooled connection idle longer than this is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 5.0


def make_engine(database_url: str, *, sqlite_busy_timeout_ms: int = 15000, **kwargs) -> Engine:
    """Build an engine; SQLite gets WAL, foreign keys, a busy timeout and write-ahead locking."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine = create_engine(url, **kwargs)
        if not kwargs.get("pool_pre_ping"):
            _ping_when_idle(engine)
        return engine
    if url.database and url.database != ":memory:":
        path = Path(url.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        # It holds password and token hashes: readable by its owner only, like the instance
        # folder's secret key. SQLite gives its -wal and -shm files the same mode.
        path.touch(mode=0o600, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": sqlite_busy_timeout_ms / 1000}, **kwargs
    )
    _tune_sqlite(engine, sqlite_busy_timeout_ms)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle for a while.

    A connection can go stale while idle (a database restart, a firewall dropping the
    socket); one that was used a moment ago is alive. SQLAlchemy's pool_pre_ping would ping
    on every checkout, a round trip in every transaction of every request; this pings only
    where staleness is possible, and a failed ping makes the pool connect afresh.
    """

    @event.listens_for(engine, "checkin")
    def _note_idle_since(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            if not getattr(dbapi_connection, "autocommit", True):
                dbapi_connection.rollback()
        except Exception as error:  # noqa: BLE001 - any failure means: do not use it
            raise exc.DisconnectionError(f"stale pooled connection: {error}") from error


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


def url_without_password(engine: Engine) -> str:
    """The engine's URL to hand to another process: everything but the password."""
    return engine.url.set(password=None).render_as_string(hide_password=False)


def worker_url(sent: str) -> str:
    """The URL a worker connects with. The driver sends it without a password; the worker's
    own RI_DATABASE_URL supplies one when it names the same database and user (a LocalCluster
    inherits the driver's environment), otherwise libpq's PGPASSWORD or ~/.pgpass does."""
    own = os.environ.get("RI_DATABASE_URL")
    if own:
        mine, theirs = make_url(own), make_url(sent)
        if (mine.host, mine.port, mine.database, mine.username) == (
                theirs.host, theirs.port, theirs.database, theirs.username):
            return own
    return sent
