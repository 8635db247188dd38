"""Webhook subscriptions and their deliveries."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..planning_tables import webhook_deliveries, webhooks
from ..tables import outbox_events
from .base import Repository, upsert, utcnow


class WebhookRepository(Repository):
    # `list` names a method here, so annotations spell the built-in `builtins.list`.
    def add(self, *, url: str, secret: str, event_types: builtins.list[str], actor: str,
            last_event_id: int, since_snapshot: str | None) -> int:
        return self.connection.execute(
            webhooks.insert()
            .values(url=url, secret=secret, event_types=event_types, actor=actor,
                    created_at=utcnow(), last_event_id=last_event_id,
                    since_snapshot=since_snapshot)
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

    def due(self, now: datetime, limit: int) -> builtins.list[dict]:
        """Pending deliveries whose time has come, with what is needed to send them."""
        query = (
            select(webhook_deliveries, webhooks.c.url, webhooks.c.secret,
                   outbox_events.c.event_type, outbox_events.c.payload,
                   outbox_events.c.created_at.label("event_created_at"),
                   outbox_events.c.actor.label("event_actor"))
            .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
            .join(outbox_events, outbox_events.c.id == webhook_deliveries.c.event_id)
            .where(webhook_deliveries.c.status == "pending",
                   webhook_deliveries.c.next_attempt_at <= now, webhooks.c.active.is_(True))
            .order_by(webhook_deliveries.c.id).limit(limit)
        )
        if self.is_postgres:
            # Two dispatchers never send the same delivery: each skips rows the other holds.
            query = query.with_for_update(of=webhook_deliveries, skip_locked=True)
        return [dict(r._mapping) for r in self.connection.execute(query)]

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
