"""Being told when outbox events commit: PostgreSQL's LISTEN on the channel the outbox
NOTIFYs in every transaction that writes events (repositories/events.py)."""

from __future__ import annotations

import logging

import psycopg

from .repositories.events import OUTBOX_CHANNEL

log = logging.getLogger(__name__)


class OutboxListener:
    """A connection of its own, listening; `heard(timeout)` waits for the next commit."""

    def __init__(self, connection: psycopg.Connection):
        self.connection = connection

    @classmethod
    def open(cls, database_url: str) -> OutboxListener | None:
        """None on SQLite (nothing to listen to) or when PostgreSQL refuses: callers poll."""
        if not database_url.startswith("postgresql"):
            return None
        # SQLAlchemy's postgresql+psycopg://… as libpq takes it.
        libpq = "postgresql://" + database_url.split("://", 1)[1]
        try:
            connection = psycopg.connect(libpq, autocommit=True)
            connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
        except psycopg.Error:
            log.exception("cannot LISTEN for outbox events; polling instead")
            return None
        return cls(connection)

    def heard(self, timeout: float) -> bool:
        """True at the first notification within `timeout` seconds (others queued with it
        are left for the next call, which then returns at once)."""
        return any(True for _ in self.connection.notifies(timeout=timeout, stop_after=1))

    def close(self) -> None:
        self.connection.close()
