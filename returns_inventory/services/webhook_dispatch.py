"""Sending webhooks concurrently: many endpoints at once, a few sends per endpoint at once,
each over a connection kept alive, and in order for an endpoint that asks for it.

One pass: claim a batch of due deliveries in one transaction, send them (no transaction is
open meanwhile), record every outcome in one more. Delivery is at least once: a send whose
outcome could not be recorded (the process died) is claimed again after its claim lapses.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from .. import metrics
from ..integrations.webhook_http import AddressPolicy, KeptConnection, Response
from .webhooks import SIGNATURE_HEADER, DeliveryPolicy, sign


@dataclass(frozen=True)
class Concurrency:
    """How many sends at once: in all, and to one endpoint (1 for an ordered one)."""

    overall: int = 32
    per_endpoint: int = 4
    batch_size: int = 256

    @classmethod
    def from_settings(cls, settings) -> Concurrency:
        doc = settings.policies.get("webhooks", {}).get("dispatcher", {})
        return cls(**{k: int(v) for k, v in doc.items() if k in cls.__dataclass_fields__})


class Connections:
    """Kept-alive connections per endpoint URL: a lane (a thread's turn at an endpoint) takes
    one and gives it back, so an endpoint has at most `per_endpoint` open."""

    def __init__(self, addresses: AddressPolicy):
        self.addresses = addresses
        self._idle: dict[str, list[KeptConnection]] = defaultdict(list)
        self._lock = threading.Lock()

    def take(self, url: str) -> KeptConnection:
        with self._lock:
            idle = self._idle[url]
            return idle.pop() if idle else KeptConnection(url, self.addresses)

    def give_back(self, connection: KeptConnection) -> None:
        with self._lock:
            self._idle[connection.url].append(connection)

    def close(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for connection in idle:
                    connection.close()
            self._idle.clear()


Send = Callable[[dict, bytes, dict, int], Response]


class Dispatch:
    """Claims, sends and records batches of deliveries; reuse one across passes (it keeps
    the connections and the thread pool)."""

    def __init__(self, uow_factory: Callable, policy: DeliveryPolicy, concurrency: Concurrency,
                 *, addresses: AddressPolicy | None = None, send: Send | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.uow_factory, self.policy, self.concurrency = uow_factory, policy, concurrency
        self.connections = Connections(addresses or AddressPolicy())
        self.pool = ThreadPoolExecutor(concurrency.overall, thread_name_prefix="webhook-send")
        self.clock = clock or (lambda: datetime.now(UTC))
        self._send = send or self._over_kept_connection

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.connections.close()

    def run_once(self) -> dict[str, int]:
        """One batch: claimed, sent, recorded; the figures say what became of it."""
        now = self.clock()
        with self.uow_factory() as uow:
            claimed = uow.webhooks.claim_due(now, self.concurrency.batch_size,
                                            claim_until=now + self.policy.claim)
            uow.commit()
        if not claimed:
            return {"claimed": 0}
        outcomes = [o for lane in self.pool.map(self._send_lane, self._lanes(claimed))
                    for o in lane]
        with self.uow_factory() as uow:
            uow.webhooks.finish_attempts(outcomes)
            uow.commit()
        figures = {"claimed": len(claimed)}
        for outcome in outcomes:
            figures[outcome["kind"]] = figures.get(outcome["kind"], 0) + 1
            if outcome["kind"] != "released":
                metrics.webhook_deliveries.labels(outcome["kind"]).inc()
            if outcome["kind"] == "delivered":
                metrics.webhook_lag.observe(outcome["lag"])
        return figures

    def _lanes(self, claimed: list[dict]) -> list[list[dict]]:
        """Per endpoint: one lane in id order when it is ordered, else up to per_endpoint
        lanes dealt round-robin."""
        by_endpoint: dict[int, list[dict]] = defaultdict(list)
        for delivery in claimed:
            by_endpoint[delivery["webhook_id"]].append(delivery)
        lanes = []
        for deliveries in by_endpoint.values():
            width = 1 if deliveries[0]["ordered"] else self.concurrency.per_endpoint
            lanes += [deliveries[i::width] for i in range(min(width, len(deliveries)))]
        return lanes

    def _send_lane(self, lane: list[dict]) -> list[dict]:
        outcomes: list[dict] = []
        stop = False
        for delivery in lane:
            if stop:
                # An ordered endpoint's earlier event failed: this one waits behind it,
                # its attempt not counted.
                outcomes.append(_outcome(delivery, "released", None, self.clock(),
                                         attempts=delivery["attempts"] - 1))
                continue
            answer = self._send(delivery, *self._request(delivery), self.policy.timeout_seconds)
            outcome = self._judge(delivery, answer)
            outcomes.append(outcome)
            stop = delivery["ordered"] and outcome["kind"] != "delivered"
        return outcomes

    def _request(self, delivery: dict) -> tuple[bytes, dict]:
        body = json.dumps({
            "delivery_id": delivery["delivery_id"], "event_id": delivery["event_id"],
            "type": delivery["event_type"], "actor": delivery["event_actor"],
            "created_at": _iso(delivery["event_created_at"]), "payload": delivery["payload"],
        }, separators=(",", ":")).encode()
        timestamp = str(int(self.clock().timestamp()))
        return body, {
            "Content-Type": "application/json", "X-RI-Event": delivery["event_type"],
            "X-RI-Delivery": delivery["delivery_id"], "X-RI-Timestamp": timestamp,
            SIGNATURE_HEADER: sign(delivery["secret"], timestamp, body),
        }

    def _over_kept_connection(self, delivery: dict, body: bytes, headers: dict,
                              timeout: int) -> Response:
        connection = self.connections.take(delivery["url"])
        try:
            return connection.post(body, headers, timeout)
        finally:
            self.connections.give_back(connection)

    def _judge(self, delivery: dict, answer: Response) -> dict:
        answered_at = self.clock()
        if answer.ok:
            outcome = _outcome(delivery, "delivered", answer, answered_at)
            outcome.update(new_status="delivered", delivered=answered_at)
            created = delivery["event_created_at"]
            created = created if created.tzinfo else created.replace(tzinfo=UTC)
            outcome["lag"] = max(0.0, (answered_at - created).total_seconds())
            return outcome
        if delivery["attempts"] >= self.policy.max_attempts:
            outcome = _outcome(delivery, "failed", answer, answered_at)
            outcome["new_status"] = "failed"
            return outcome
        outcome = _outcome(delivery, "retry", answer, answered_at)
        outcome["next_at"] = answered_at + self.policy.delay(delivery["attempts"])
        return outcome


def _outcome(delivery: dict, kind: str, answer: Response | None, at: datetime, *,
             attempts: int | None = None) -> dict:
    return {"kind": kind, "delivery": delivery["id"], "attempt": delivery["attempts"],
            "attempts_after": delivery["attempts"] if attempts is None else attempts,
            "new_status": "pending", "next_at": at, "delivered": None,
            "code": answer.status if answer else None,
            "error": ((answer.error or "")[:500] or None) if answer else None}


def _iso(value) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
