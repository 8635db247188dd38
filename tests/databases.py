"""Throw-away databases for tests: a SQLite file, or a fresh PostgreSQL database.

Each test session (and each e2e server) gets a database of its own, so parallel runs on one
PostgreSQL server never see each other's rows.
"""

from __future__ import annotations

import os
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from returns_inventory.persistence import migrate
from returns_inventory.persistence.engine import make_engine
from returns_inventory.persistence.outbox_listener import retire_notifiers
from returns_inventory.persistence.uow import Database

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
POSTGRES_SKIP_REASON = "TEST_DATABASE_URL is not set: PostgreSQL tests skipped"


def backends() -> list[str]:
    return ["sqlite", "postgresql"]


@contextmanager
def fresh_database(backend: str, folder: Path, *, migrated: bool = True):
    """Yield the URL of a new, empty (or migrated) database; drop it afterwards."""
    name = f"ri_test_{uuid.uuid4().hex[:12]}"
    if backend == "sqlite":
        url = f"sqlite:///{folder / (name + '.sqlite3')}"
        if migrated:
            _migrate(url)
        yield url
        return
    server = make_url(POSTGRES_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        if migrated:
            _migrate(url)
        yield url
    finally:
        retire_notifiers(name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()


class SavepointDatabase(Database):
    """Runs every unit of work in a savepoint of one outer connection (tests roll it back)."""

    def __init__(self, connection: Connection):
        super().__init__(connection.engine)
        self.connection = connection
        # A unit of work on another thread (a forecast run's heartbeat) waits its turn on the
        # one connection instead of interleaving statements with the running one.
        self._turn = threading.RLock()

    def begin(self, *, read_only: bool = False):
        self._turn.acquire()
        try:
            return self.connection, self.connection.begin_nested()
        except BaseException:
            self._turn.release()
            raise

    def release(self, connection: Connection) -> None:
        self._turn.release()
