"""The outbox: events written in the same transaction as the change they announce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, cast, func, literal_column, select

from ..tables import outbox_events
from .base import Repository, utcnow


@dataclass(frozen=True)
class Event:
    id: int
    event_type: str
    payload: dict[str, Any]
    actor: str
    created_at: datetime


# Every change writes an event: build the statements once (see stock.py).
_ADD_EVENTS = outbox_events.insert()
_ADD_EVENTS_PG = outbox_events.insert().values(
    txid=cast(literal_column("pg_current_xact_id()::text"), BigInteger)
)


class OutboxRepository(Repository):
    """Events are kept until the unit of work commits and then written in one statement:
    a grade announces two or three, and each round trip is a large share of its cost."""

    def __init__(self, connection):
        super().__init__(connection)
        self._pending: list[dict[str, Any]] = []

    def add(self, event_type: str, payload: dict[str, Any], *, actor: str) -> None:
        self._pending.append({
            "event_type": event_type, "payload": payload, "actor": actor,
            "created_at": utcnow()})

    def flush(self) -> None:
        """Write the pending events, in the order they were added (ids follow that order)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self.connection.execute(_ADD_EVENTS_PG if self.is_postgres else _ADD_EVENTS, pending)

    def after(self, cursor: int, limit: int, event_type: str | None = None) -> list[Event]:
        """Events past the cursor, in commit order."""
        self.flush()
        query = select(outbox_events).where(outbox_events.c.id > cursor)
        if self.is_postgres:
            # Ids are handed out before commit; an event whose transaction is still open could
            # later commit below an id a reader already passed. Stop at the oldest open one.
            horizon = cast(
                literal_column("pg_snapshot_xmin(pg_current_snapshot())::text"), BigInteger
            )
            # Our own transaction's events are visible to us, open or not.
            own = func.coalesce(
                cast(literal_column("pg_current_xact_id_if_assigned()::text"), BigInteger), -1
            )
            blocked = select(func.min(outbox_events.c.id)).where(
                outbox_events.c.id > cursor,
                outbox_events.c.txid >= horizon,
                outbox_events.c.txid != own,
            )
            first_open = self.connection.scalar(blocked)
            if first_open is not None:
                query = query.where(outbox_events.c.id < first_open)
        if event_type:
            query = query.where(outbox_events.c.event_type == event_type)
        rows = self.connection.execute(query.order_by(outbox_events.c.id).limit(limit))
        return [
            Event(r.id, r.event_type, r.payload, r.actor, r.created_at) for r in rows
        ]

    def count(self, event_type: str | None = None) -> int:
        self.flush()
        query = select(func.count()).select_from(outbox_events)
        if event_type:
            query = query.where(outbox_events.c.event_type == event_type)
        return self.connection.scalar(query) or 0
