"""Pooled PostgreSQL connections: idle ones are checked before use, busy ones are not."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from returns_inventory.persistence import engine as engine_module
from returns_inventory.persistence.engine import make_engine
from tests.databases import POSTGRES_SKIP_REASON, POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason=POSTGRES_SKIP_REASON)


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _terminate(pid: int) -> None:
    killer = make_engine(POSTGRES_URL)
    with killer.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()
    killer.dispose()


def test_an_idle_connection_that_died_is_replaced_before_a_request_uses_it(monkeypatch):
    engine = make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    first = _backend_pid(engine)
    _terminate(first)  # a database restart, as far as the pooled connection can tell
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert _backend_pid(engine) != first
    engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged_again(monkeypatch):
    engine = make_engine(POSTGRES_URL, pool_size=1, max_overflow=0)
    first = _backend_pid(engine)
    _terminate(first)
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    # No ping within the idle window: the dead connection is only found on use (and the pool
    # then starts afresh), which is the round trip per transaction the window saves.
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert _backend_pid(engine) != first
    engine.dispose()
