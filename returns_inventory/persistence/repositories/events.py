"""The outbox: events written in the same transaction as the change they announce."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, cast, func, literal_column, or_, select

from ..tables import outbox_events
from .base import Repository, utcnow


@dataclass(frozen=True)
class Event:
    id: int
    event_type: str
    payload: dict[str, Any]
    actor: str
    created_at: datetime
    txid: int | None = None  # PostgreSQL: the transaction that wrote it


@dataclass(frozen=True)
class FeedPosition:
    """Where the feed stood at one moment: every event up to `cursor` had committed, and
    (PostgreSQL) `snapshot`, as pg_snapshot prints it ("xmin:xmax:xip,..."), says which of
    the later ones had too. SQLite writers commit one at a time, in id order: no snapshot."""

    cursor: int
    snapshot: str | None = None
    own_txid: int | None = None  # the transaction that looked, if it had written anything
    newest: int = 0  # no event above this id had committed

    def had_committed(self, event: Event) -> bool:
        return event.id <= self.cursor or committed_in(self.snapshot, event.txid)

    def saw(self, event: Event) -> bool:
        """Committed by then, or written before by the transaction that looked."""
        return self.had_committed(event) or (
            event.txid is not None and event.txid == self.own_txid)


def committed_in(snapshot: str | None, txid: int | None) -> bool:
    """Whether transaction `txid` had committed when `snapshot` was taken (its events
    exist, so it did commit; the snapshot tells whether that was before)."""
    if snapshot is None or txid is None:
        return False
    xmin, xmax, xip = snapshot.split(":")
    if txid < int(xmin):
        return True
    return txid < int(xmax) and str(txid) not in xip.split(",")


# Every change writes an event: build the statements once (see stock.py).
_ADD_EVENTS = outbox_events.insert()
_ADD_EVENTS_PG = outbox_events.insert().values(
    txid=cast(literal_column("pg_current_xact_id()::text"), BigInteger)
)


# Our own transaction's events are visible to us, open or not.
_OWN_TXID = func.coalesce(
    cast(literal_column("pg_current_xact_id_if_assigned()::text"), BigInteger), -1
)


# The oldest open transaction that may have written to this database's outbox. A snapshot
# lists the open transactions of the whole server: those known to be working in another
# database are left out, or one long transaction there would hold every reader here back.
# (backend_xid is the 32-bit form of the snapshot's 64-bit ids.)
_HORIZON = literal_column(
    "(SELECT coalesce(min(x::text::bigint),"
    " pg_snapshot_xmax(pg_current_snapshot())::text::bigint)"
    " FROM pg_snapshot_xip(pg_current_snapshot()) AS x"
    " WHERE x::text::bigint % 4294967296 NOT IN ("
    "SELECT backend_xid::text::bigint FROM pg_stat_activity"
    " WHERE backend_xid IS NOT NULL AND datname <> current_database()))"
)


def _first_open(cursor: int):
    """PostgreSQL: ids are handed out before commit; an event whose transaction is still open
    could later commit below an id a reader already passed. Readers stop at the first event
    past the cursor that is not older than the oldest open transaction."""
    return select(func.min(outbox_events.c.id)).where(
        outbox_events.c.id > cursor,
        outbox_events.c.txid >= _HORIZON,
        outbox_events.c.txid != _OWN_TXID,
    )


def _event(row) -> Event:
    return Event(row.id, row.event_type, row.payload, row.actor, row.created_at, row.txid)


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
            first_open = self.connection.scalar(_first_open(cursor))
            if first_open is not None:
                query = query.where(outbox_events.c.id < first_open)
        if event_type:
            query = query.where(outbox_events.c.event_type == event_type)
        rows = self.connection.execute(query.order_by(outbox_events.c.id).limit(limit))
        return [_event(r) for r in rows]

    def committed_after(self, cursor: int, limit: int, *, through: int) -> list[Event]:
        """Every event from cursor (excluded) to through that this statement sees, open ones
        of ours included, in id order (not commit order: filter them with a FeedPosition)."""
        self.flush()
        rows = self.connection.execute(
            select(outbox_events)
            .where(outbox_events.c.id > cursor, outbox_events.c.id <= through)
            .order_by(outbox_events.c.id).limit(limit))
        return [_event(r) for r in rows]

    def position(self, *, floor: int = 0) -> FeedPosition:
        """The feed's position now: the cursor a reader who read everything would hold.
        `floor`, a cursor known to be safe already, bounds the search on PostgreSQL."""
        self.flush()
        newest = select(func.coalesce(func.max(outbox_events.c.id), 0)).scalar_subquery()
        if not self.is_postgres:
            newest_id = self.connection.scalar(select(newest))
            return FeedPosition(max(floor, newest_id), newest=newest_id)
        # Where a reader stops (see after): the last event it can see before the first open
        # one. One statement, one snapshot: cursor and snapshot describe the same moment.
        first_open = _first_open(floor).scalar_subquery()
        readable = select(func.coalesce(func.max(outbox_events.c.id), 0)).where(
            or_(first_open.is_(None), outbox_events.c.id < first_open)).scalar_subquery()
        row = self.connection.execute(select(
            newest, readable, literal_column("pg_current_snapshot()::text"), _OWN_TXID,
        )).one()
        newest_id, readable_id, snapshot, own = row
        cursor = max(floor, readable_id)
        if own < 0:
            return FeedPosition(cursor, snapshot, newest=newest_id)
        # Our own transaction had not committed then, whatever the snapshot's form says.
        xmin, xmax, xip = snapshot.split(":")
        snapshot = f"{min(int(xmin), own)}:{xmax}:{','.join(filter(None, [xip, str(own)]))}"
        return FeedPosition(cursor, snapshot, own, newest_id)

    def count(self, event_type: str | None = None) -> int:
        self.flush()
        query = select(func.count()).select_from(outbox_events)
        if event_type:
            query = query.where(outbox_events.c.event_type == event_type)
        return self.connection.scalar(query) or 0
