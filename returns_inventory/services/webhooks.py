"""Outbound webhooks: every outbox event POSTed to the ERP, signed, retried, replayable."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlparse

from .. import metrics
from ..domain.errors import FieldError, NotFound, ValidationFailed, present
from ..integrations.webhook_http import (
    AddressPolicy,
    RefusedEndpoint,
    Response,
    check_url,
    post_json,
)
from ..persistence.repositories.events import Event, FeedPosition
from ..persistence.uow import UnitOfWork, UowFactory

SIGNATURE_HEADER = "X-RI-Signature"

# Every outbox event type the services write, the ones a webhook may subscribe to (a test
# checks this against the `uow.events.add(...)` calls, so a new event must be listed here).
EVENT_TYPES = frozenset({
    "claim.credited", "claim.rejected", "claim.sent",
    "exchange.backordered", "exchange.cancelled", "exchange.released", "exchange.reserved",
    "exchange.shipped",
    "forecast.completed", "forecast.discarded", "import.applied", "inspection.overridden",
    "refund.cancelled", "refund.due", "refund.paid",
    "replenishment.approved", "replenishment.rejected", "replenishment.reopened",
    "return.authorized", "return.cancelled", "return.inspected", "return.rejected",
    "stock.adjusted", "stock.restocked", "stock.write_off_reversed", "stock.written_off",
    "unit.graded", "unit.received", "unit.returned_to_customer", "unit.reviewed",
})


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    base_delay_seconds: int = 30
    max_delay_seconds: int = 3600
    timeout_seconds: int = 10
    batch_size: int = 50

    @classmethod
    def from_settings(cls, settings) -> DeliveryPolicy:
        doc = settings.policies.get("webhooks", {}).get("delivery", {})
        return cls(**{k: int(v) for k, v in doc.items() if k in cls.__dataclass_fields__})

    @property
    def claim(self) -> timedelta:
        """How long one send may take: connecting and reading may each use the timeout."""
        return timedelta(seconds=2 * self.timeout_seconds + 60)

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.base_delay_seconds * 2 ** (attempts - 1),
                                     self.max_delay_seconds))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>"; the timestamp stops old requests being replayed."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def register_webhook(uow_factory: UowFactory, *, url: str, actor: str, secret: str | None = None,
                     event_types: list[str] | None = None, since: int | None = None,
                     addresses: AddressPolicy | None = None, ordered: bool = False) -> dict:
    """Subscribe an ERP endpoint to the events committed from now on (or after the feed
    cursor `since`); the secret is generated when not given and shown once. Its host must
    resolve to public addresses only, unless `addresses` allows it (an on-premise ERP)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ValidationFailed("the webhook URL must be http(s)://host/…",
                               errors=[FieldError("url", "not an http(s) URL")])
    if parsed.username is not None or parsed.password is not None:
        # It would be shown in every listing; the HMAC secret is what authenticates.
        raise ValidationFailed("the webhook URL must not hold a user name or password",
                               errors=[FieldError("url", "credentials in the URL")])
    if secret is not None and len(secret) < 16:
        raise ValidationFailed("the secret must be at least 16 characters",
                               errors=[FieldError("secret", "at least 16 characters")])
    try:
        check_url(url, addresses or AddressPolicy())
    except RefusedEndpoint as exc:
        raise ValidationFailed(f"the webhook URL is refused: {exc}",
                               errors=[FieldError("url", str(exc))]) from exc
    unknown = sorted(set(event_types or []) - EVENT_TYPES)
    if unknown:
        # A typo would otherwise subscribe to nothing, silently.
        raise ValidationFailed(f"unknown event types: {', '.join(unknown)}",
                               errors=[FieldError("event_types", f"unknown: {t}")
                                       for t in unknown])
    secret = secret or secrets.token_urlsafe(32)
    with uow_factory() as uow:
        start = uow.events.position(floor=uow.webhooks.highest_cursor())
        if since is not None:
            if not 0 <= since <= start.cursor:
                raise ValidationFailed(
                    f"since must be a cursor the event feed has served (0 to {start.cursor})",
                    errors=[FieldError("since", f"not between 0 and {start.cursor}")])
            # The client's cursor from the feed: everything after it is this endpoint's.
            start = FeedPosition(since)
        webhook_id = uow.webhooks.add(url=url, secret=secret, event_types=event_types or [],
                                      actor=actor, last_event_id=start.cursor,
                                      since_snapshot=start.snapshot, ordered=ordered)
        uow.commit()
    return {"id": webhook_id, "url": url, "event_types": event_types or [], "secret": secret,
            "active": True, "ordered": ordered, "since": start.cursor}


def set_webhook_active(uow_factory: UowFactory, webhook_id: int, *, active: bool) -> dict:
    """Switch an endpoint off or on again. It hears of no event committed while it is off;
    the ones committed before are handed out to it as it goes off, and its pending
    deliveries wait until it is switched on."""
    with uow_factory() as uow:
        webhook = uow.webhooks.get(webhook_id, lock=True)
        if webhook is None:
            raise NotFound(f"no webhook {webhook_id}")
        if webhook["active"] != active:
            now = uow.events.position(floor=uow.webhooks.highest_cursor())
            if active:
                # It starts again from here, as if registered now.
                uow.webhooks.update(webhook_id, active=True, last_event_id=now.cursor,
                                    since_snapshot=now.snapshot)
            else:
                _hand_out_until(uow, webhook, now)
                uow.webhooks.update(webhook_id, active=False)
        webhook = present(uow.webhooks.get(webhook_id), f"webhook {webhook_id}")
        uow.commit()
    return {k: webhook[k] for k in ("id", "url", "event_types", "active", "ordered")}


def _hand_out_until(uow: UnitOfWork, webhook: dict, off: FeedPosition, *,
                    batch: int = 1000) -> None:
    """Deliveries for the events committed before `off` that fan-out has not reached yet."""
    cursor = webhook["last_event_id"]
    while events := uow.events.committed_after(cursor, batch, through=off.cursor):
        uow.webhooks.add_deliveries([{"webhook_id": webhook["id"], "event_id": e.id}
                                     for e in events if _hears(webhook, e)])
        cursor = events[-1].id


def fan_out(uow_factory: UowFactory, *, batch: int = 1000) -> int:
    """Turn newly committed outbox events into one pending delivery per endpoint that is on
    and subscribed, each from its own cursor; answers how many events were looked at."""
    with uow_factory() as uow:
        webhooks = uow.webhooks.to_fan_out()
        if not webhooks:
            return 0
        # No event commits below what a read sees (events.py): no cursor passes one.
        events = uow.events.after(min(w["last_event_id"] for w in webhooks), batch)
        if not events:
            return 0
        uow.webhooks.add_deliveries([{"webhook_id": w["id"], "event_id": e.id}
                                     for e in events for w in webhooks if _hears(w, e)])
        uow.webhooks.move_cursors([w["id"] for w in webhooks], events[-1].id)
        uow.commit()
    return len(events)


def _hears(webhook: dict, event: Event) -> bool:
    """Committed after the endpoint started (or restarted), and of a type it asked for."""
    started = FeedPosition(webhook["last_event_id"], webhook["since_snapshot"])
    wanted = webhook["event_types"]
    return not started.had_committed(event) and (not wanted or event.event_type in wanted)


def deliver_due(uow_factory: UowFactory, policy: DeliveryPolicy, *,
                addresses: AddressPolicy | None = None,
                send: Callable[[str, bytes, dict, int], Response] | None = None,
                clock: Callable[[], datetime] | None = None) -> dict[str, int]:
    """Send what was due when the run started; failures wait longer each time and end as
    failed after the last try. Each send checks the host's addresses again (`addresses`
    says which internal ones are allowed): one refused is a failed attempt.

    Each delivery is claimed in a short transaction of its own right before it is sent, so no
    database lock is held while the ERP answers, and the claim covers that one send however
    long the batch takes: a second dispatcher skips it, and takes over the ones not yet sent.
    """
    send = send or partial(post_json, addresses=addresses or AddressPolicy())
    clock = clock or (lambda: datetime.now(UTC))
    started = clock()
    outcome = {"delivered": 0, "retrying": 0, "failed": 0}
    for _ in range(policy.batch_size):
        delivery = _claim_next(uow_factory, policy, due_by=started, now=clock())
        if delivery is None:
            break
        body = json.dumps({
            "delivery_id": delivery["delivery_id"], "event_id": delivery["event_id"],
            "type": delivery["event_type"], "actor": delivery["event_actor"],
            "created_at": _iso(delivery["event_created_at"]), "payload": delivery["payload"],
        }, separators=(",", ":")).encode()
        # Receivers reject old timestamps: take it when this request is signed, not per batch.
        timestamp = str(int(clock().timestamp()))
        headers = {
            "Content-Type": "application/json", "X-RI-Event": delivery["event_type"],
            "X-RI-Delivery": delivery["delivery_id"], "X-RI-Timestamp": timestamp,
            SIGNATURE_HEADER: sign(delivery["secret"], timestamp, body),
        }
        answer = send(delivery["url"], body, headers, policy.timeout_seconds)
        answered_at = clock()
        attempts = delivery["attempts"]
        values: dict[str, Any] = dict(last_status_code=answer.status,
                                      last_error=(answer.error or "")[:500] or None)
        if answer.ok:
            key = "delivered"
            values.update(status="delivered", delivered_at=answered_at)
        elif attempts >= policy.max_attempts:
            key = "failed"
            values.update(status="failed")
        else:
            key = "retrying"
            values.update(next_attempt_at=answered_at + policy.delay(attempts))
        with uow_factory() as uow:
            recorded = uow.webhooks.finish_attempt(delivery["id"], attempts, **values)
            uow.commit()
        if recorded:
            outcome[key] += 1
            metrics.webhook_deliveries.labels("retry" if key == "retrying" else key).inc()
    return outcome


def _claim_next(uow_factory: UowFactory, policy: DeliveryPolicy, *, due_by: datetime,
                now: datetime) -> dict | None:
    """The next due delivery, pushed past its send and with this attempt counted (committed)."""
    with uow_factory() as uow:
        due = uow.webhooks.due(due_by, 1)
        if not due:
            return None
        delivery = {**due[0], "attempts": due[0]["attempts"] + 1}
        # Counting the attempt now also versions the claim: if it lapsed and another
        # dispatcher took the delivery over, this one's late answer is not recorded over it.
        uow.webhooks.record_attempt(delivery["id"], attempts=delivery["attempts"],
                                    next_attempt_at=now + policy.claim)
        uow.commit()
    return delivery


def replay_failed(uow_factory: UowFactory, *, delivery_ids: list[int] | None = None,
                  webhook_id: int | None = None) -> int:
    """Queue failed deliveries again, e.g. after the ERP endpoint was fixed."""
    with uow_factory() as uow:
        if webhook_id is not None and uow.webhooks.get(webhook_id) is None:
            raise NotFound(f"no webhook {webhook_id}")
        count = uow.webhooks.replay(delivery_ids=delivery_ids, webhook_id=webhook_id)
        uow.commit()
    return count


def _iso(value) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
