"""Webhook subscriptions and their deliveries."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select

from ..planning_tables import webhook_deliveries, webhooks
from ..tables import outbox_events
from .base import Repository, upsert, utcnow

CLAIM_LOCK = 0x5249434C41494D  # "RICLAIM"

_FINISH = (
    webhook_deliveries.update()
    .where(webhook_deliveries.c.id == bindparam("delivery"),
           webhook_deliveries.c.attempts == bindparam("attempt"),
           webhook_deliveries.c.status == "pending")
    .values(status=bindparam("new_status"), next_attempt_at=bindparam("next_at"),
            delivered_at=bindparam("delivered"), attempts=bindparam("attempts_after"),
            last_status_code=bindparam("code"), last_error=bindparam("error"))
)


class WebhookRepository(Repository):
    # `list` names a method here, so annotations spell the built-in `builtins.list`.
    def add(self, *, url: str, secret: str, event_types: builtins.list[str], actor: str,
            last_event_id: int, since_snapshot: str | None, ordered: bool = False) -> int:
        return self.connection.execute(
            webhooks.insert()
            .values(url=url, secret=secret, event_types=event_types, actor=actor,
                    created_at=utcnow(), last_event_id=last_event_id,
                    since_snapshot=since_snapshot, ordered=ordered)
            .returning(webhooks.c.id)
        ).scalar_one()

    def list(self) -> builtins.list[dict]:
        rows = self.connection.execute(select(webhooks).order_by(webhooks.c.id))
        return [dict(r._mapping) for r in rows]

    def get(self, webhook_id: int, *, lock: bool = False) -> dict | None:
        query = select(webhooks).where(webhooks.c.id == webhook_id)
        row = self.connection.execute(query.with_for_update() if lock else query).first()
        return dict(row._mapping) if row else None

    def update(self, webhook_id: int, **values: Any) -> int:
        return self.connection.execute(
            webhooks.update().where(webhooks.c.id == webhook_id).values(**values)
        ).rowcount

    def to_fan_out(self) -> builtins.list[dict]:
        """The endpoints that are on, locked while their events are handed out (a switch
        off or on waits, and a second dispatcher fans out after this one)."""
        query = select(webhooks).where(webhooks.c.active.is_(True)).order_by(webhooks.c.id)
        return [dict(r._mapping) for r in self.connection.execute(query.with_for_update())]

    def move_cursors(self, webhook_ids: builtins.list[int], last_event_id: int) -> None:
        self.connection.execute(
            webhooks.update()
            .where(webhooks.c.id.in_(webhook_ids), webhooks.c.last_event_id < last_event_id)
            .values(last_event_id=last_event_id)
        )

    def highest_cursor(self) -> int:
        """A feed position known to be safe: the furthest any endpoint's cursor has got."""
        return self.connection.scalar(
            select(func.coalesce(func.max(webhooks.c.last_event_id), 0)))

    def add_deliveries(self, rows: builtins.list[dict]) -> None:
        if not rows:
            return
        now = utcnow()
        self.connection.execute(
            upsert(self.connection, webhook_deliveries)
            .on_conflict_do_nothing(index_elements=["webhook_id", "event_id"]),
            [{**r, "delivery_id": str(uuid.uuid4()), "status": "pending", "attempts": 0,
              "next_attempt_at": now, "created_at": now} for r in rows],
        )

    def _due(self, now: datetime, limit: int, *conditions) -> builtins.list[dict]:
        """Pending deliveries whose time has come, with what is needed to send them, locked
        on PostgreSQL: two dispatchers never send the same one, each skips the other's."""
        query = (
            select(webhook_deliveries, webhooks.c.url, webhooks.c.secret, webhooks.c.ordered,
                   outbox_events.c.event_type, outbox_events.c.payload,
                   outbox_events.c.created_at.label("event_created_at"),
                   outbox_events.c.actor.label("event_actor"))
            .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
            .join(outbox_events, outbox_events.c.id == webhook_deliveries.c.event_id)
            .where(webhook_deliveries.c.status == "pending",
                   webhook_deliveries.c.next_attempt_at <= now, webhooks.c.active.is_(True),
                   *conditions)
            .order_by(webhook_deliveries.c.id).limit(limit)
        )
        if self.is_postgres:
            query = query.with_for_update(of=webhook_deliveries, skip_locked=True)
        return [dict(r._mapping) for r in self.connection.execute(query)]

    def due(self, now: datetime, limit: int) -> builtins.list[dict]:
        """Pending deliveries whose time has come (the deliver-webhooks job's, one at a time)."""
        return self._due(now, limit)

    def claim_due(self, now: datetime, limit: int, *, claim_until: datetime) -> builtins.list[dict]:
        """Take up to `limit` due deliveries for one send each: their attempt is counted and
        they are pushed to `claim_until`, so another dispatcher leaves them alone. An ordered
        endpoint's delivery is due only while no earlier one of it waits (a retry, or one
        claimed elsewhere), so its events go out in feed order."""
        if self.is_postgres:
            # One claim at a time, across dispatchers: a claim running beside another would
            # not see the other's uncommitted claims, and could take an ordered endpoint's
            # next event while its earlier one is being sent. Claims are short.
            self.connection.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK)))
        earlier = webhook_deliveries.alias("earlier")
        waiting_before = (
            select(earlier.c.id)
            .where(earlier.c.webhook_id == webhook_deliveries.c.webhook_id,
                   earlier.c.id < webhook_deliveries.c.id, earlier.c.status == "pending",
                   earlier.c.next_attempt_at > now)
            .exists()
        )
        rows = self._due(now, limit, ~(webhooks.c.ordered & waiting_before))
        if rows:
            self.connection.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id.in_([r["id"] for r in rows]))
                .values(attempts=webhook_deliveries.c.attempts + 1, next_attempt_at=claim_until))
        return [{**r, "attempts": r["attempts"] + 1} for r in rows]

    def finish_attempts(self, outcomes: builtins.list[dict]) -> None:
        """Record how each claimed attempt ended ({id, attempt, status, next_attempt_at,
        delivered_at, last_status_code, last_error}), unless a later attempt claimed it."""
        keys = ("delivery", "attempt", "new_status", "next_at", "delivered", "attempts_after",
                "code", "error")
        if outcomes:
            self.connection.execute(_FINISH, [{k: o[k] for k in keys} for o in outcomes])

    def record_attempt(self, delivery_id: int, **values: Any) -> None:
        self.connection.execute(
            webhook_deliveries.update().where(webhook_deliveries.c.id == delivery_id)
            .values(**values)
        )

    def finish_attempt(self, delivery_id: int, attempt: int, **values: Any) -> bool:
        """Record how attempt number `attempt` ended, unless a later attempt has claimed it."""
        return self.connection.execute(
            webhook_deliveries.update()
            .where(webhook_deliveries.c.id == delivery_id,
                   webhook_deliveries.c.attempts == attempt,
                   webhook_deliveries.c.status == "pending")
            .values(**values)
        ).rowcount == 1

    def deliveries(self, *, status: str | None, webhook_id: int | None, limit: int,
                   after: int | None) -> builtins.list[dict]:
        query = select(webhook_deliveries, outbox_events.c.event_type).join(
            outbox_events, outbox_events.c.id == webhook_deliveries.c.event_id)
        if status:
            query = query.where(webhook_deliveries.c.status == status)
        if webhook_id is not None:
            query = query.where(webhook_deliveries.c.webhook_id == webhook_id)
        if after:
            query = query.where(webhook_deliveries.c.id > after)
        rows = self.connection.execute(query.order_by(webhook_deliveries.c.id).limit(limit))
        return [{**r._mapping, "next_attempt_at": r.next_attempt_at} for r in rows]

    def replay(self, *, delivery_ids: builtins.list[int] | None, webhook_id: int | None) -> int:
        """Failed deliveries go back in the queue with a fresh set of tries."""
        query = webhook_deliveries.update().where(webhook_deliveries.c.status == "failed")
        if delivery_ids is not None:
            query = query.where(webhook_deliveries.c.id.in_(delivery_ids))
        if webhook_id is not None:
            query = query.where(webhook_deliveries.c.webhook_id == webhook_id)
        return self.connection.execute(
            query.values(status="pending", attempts=0, next_attempt_at=utcnow(), last_error=None)
        ).rowcount
