"""Events reach the ERP's endpoint signed, once, and failures are retried then replayable."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from returns_inventory.domain.errors import ValidationFailed
from returns_inventory.integrations.webhook_http import AddressPolicy
from returns_inventory.services.stock import adjust_stock
from returns_inventory.services.webhooks import (
    DeliveryPolicy,
    Response,
    deliver_due,
    fan_out,
    post_json,
    register_webhook,
    replay_failed,
    sign,
)
from tests.integration import webhook_support


def change_stock(uow_factory, quantity: int = 3) -> None:
    """One stock.adjusted event (an endpoint hears it only if registered before)."""
    adjust_stock(uow_factory, sku="TEE-BLK", size="M", location="WH1", condition="sellable",
                 quantity=quantity, reason="count", actor="erp")


POLICY = DeliveryPolicy(max_attempts=3, base_delay_seconds=10, timeout_seconds=5)
# The receiver listens on loopback, which webhooks are only sent to when allowed.
LOOPBACK = AddressPolicy(("127.0.0.1",))


def deliver(uow_factory, policy: DeliveryPolicy = POLICY, **options) -> dict[str, int]:
    return deliver_due(uow_factory, policy, addresses=LOOPBACK, **options)


@pytest.fixture
def settings(settings):
    return settings.replace(webhook_allowed_internal_hosts=LOOPBACK.allowed_internal_hosts)


@pytest.fixture(autouse=True)
def no_traffic_beyond_loopback(monkeypatch):
    """erp.example stands for a public ERP: never looked up, never connected to."""
    _dns, guard = webhook_support.install(monkeypatch)
    yield
    assert guard.refused == []


class Clock:
    """Time that moves only when a test says so."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class SlowEndpoint:
    """A fake `send` whose every request takes `seconds` of the clock, answering `status`."""

    def __init__(self, clock: Clock, seconds: float, status: int = 204):
        self.clock, self.seconds, self.status = clock, seconds, status
        self.sent: list[tuple[datetime, dict]] = []

    def __call__(self, url, body, headers, timeout):
        self.sent.append((self.clock(), headers))
        self.clock.advance(self.seconds)
        return Response(self.status, None if self.status < 300 else f"HTTP {self.status}")


def several_deliveries(uow_factory, count: int) -> None:
    for n in range(count):
        register_webhook(uow_factory, url=f"http://erp.example/hook/{n}", actor="admin")
    change_stock(uow_factory)
    fan_out(uow_factory)


def test_an_event_is_posted_once_with_a_valid_signature(uow_factory, receiver, catalogue):
    hook = register_webhook(uow_factory, url=receiver.url, actor="admin", addresses=LOOPBACK,
                            secret="s3cret-s3cret-s3cret")
    assert hook["secret"] == "s3cret-s3cret-s3cret"
    change_stock(uow_factory)
    assert fan_out(uow_factory) == 1
    assert deliver(uow_factory) == {"delivered": 1, "retrying": 0, "failed": 0}
    assert fan_out(uow_factory) == 0 and deliver(uow_factory)["delivered"] == 0
    [(headers, body)] = receiver.received
    expected = sign("s3cret-s3cret-s3cret", headers["X-RI-Timestamp"], body)
    assert hmac.compare_digest(headers["X-RI-Signature"], expected)
    event = json.loads(body)
    assert event["type"] == "stock.adjusted" and event["payload"]["on_hand"] == 3
    assert headers["X-RI-Delivery"] == event["delivery_id"]


def test_a_failing_endpoint_is_retried_with_backoff_then_kept_as_failed_and_replayed(
        uow_factory, receiver, catalogue):
    register_webhook(uow_factory, url=receiver.url, actor="admin", addresses=LOOPBACK)
    change_stock(uow_factory)
    fan_out(uow_factory)
    receiver.status = 503
    clock = Clock()
    assert deliver(uow_factory, clock=clock)["retrying"] == 1
    # Not due again until the backoff has passed.
    clock.advance(5)
    assert deliver(uow_factory, clock=clock) == {
        "delivered": 0, "retrying": 0, "failed": 0}
    clock.advance(6)
    assert deliver(uow_factory, clock=clock)["retrying"] == 1
    clock.advance(21)
    assert deliver(uow_factory, clock=clock)["failed"] == 1
    assert len(receiver.received) == 3
    receiver.status = 200
    assert replay_failed(uow_factory) == 1
    assert deliver(uow_factory)["delivered"] == 1


def test_each_delivery_is_signed_and_rescheduled_at_its_own_time(uow_factory, catalogue):
    several_deliveries(uow_factory, 4)
    clock = Clock()
    endpoint = SlowEndpoint(clock, seconds=8, status=503)  # slower than the 10 s backoff
    assert deliver(uow_factory, send=endpoint, clock=clock)["retrying"] == 4
    for sent_at, headers in endpoint.sent:
        assert headers["X-RI-Timestamp"] == str(int(sent_at.timestamp()))
    with uow_factory() as uow:
        rows = uow.webhooks.deliveries(status="pending", webhook_id=None, limit=10, after=None)
    # Each waits the full backoff after its own answer, never a time already past.
    for (sent_at, _), row in zip(endpoint.sent, rows, strict=True):
        assert row["next_attempt_at"] == sent_at + timedelta(seconds=8 + 10)


def test_a_second_dispatcher_during_a_slow_batch_sends_nothing_twice(uow_factory,
                                                                       catalogue):
    several_deliveries(uow_factory, 6)
    clock = Clock()
    # Each send takes the most a 10 s timeout allows; a claim for the whole batch up front
    # would have lapsed on the deliveries still queued by the time the fifth is sent.
    policy = DeliveryPolicy(timeout_seconds=10)
    endpoint = SlowEndpoint(clock, seconds=20)
    overtaken = []

    def send(url, body, headers, timeout):
        answer = endpoint(url, body, headers, timeout)
        if clock() >= endpoint.sent[0][0] + timedelta(seconds=80) and not overtaken:
            # Another scheduler's run starts while this one is still sending.
            overtaken.append(deliver_due(uow_factory, policy, send=endpoint, clock=clock))
        return answer

    first = deliver_due(uow_factory, policy, send=send, clock=clock)
    assert overtaken and overtaken[0]["delivered"] >= 1
    assert first["delivered"] + overtaken[0]["delivered"] == 6
    ids = [headers["X-RI-Delivery"] for _, headers in endpoint.sent]
    assert len(ids) == len(set(ids)) == 6


def test_a_webhook_only_hears_the_event_types_it_asked_for(uow_factory, receiver,
                                                           catalogue):
    register_webhook(uow_factory, url=receiver.url, actor="admin", addresses=LOOPBACK,
                     event_types=["replenishment.approved"])
    change_stock(uow_factory)
    assert fan_out(uow_factory) == 1
    deliver(uow_factory)
    assert receiver.received == []


def test_admins_register_webhooks_over_http_and_see_failed_deliveries(client, auth, receiver):
    admin = auth("admin")
    created = client.post("/api/v1/webhooks", headers=admin, json={"url": receiver.url})
    assert created.status_code == 201 and len(created.json["secret"]) >= 16
    listed = client.get("/api/v1/webhooks", headers=admin).json["data"]
    assert "secret" not in listed[0]
    assert client.post("/api/v1/webhooks", headers=auth("planner"),
                       json={"url": receiver.url}).status_code == 403
    bad = client.post("/api/v1/webhooks", headers=admin, json={"url": "ftp://x"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "url"
    failed = client.get("/api/v1/webhooks/deliveries?status=failed", headers=admin)
    assert failed.status_code == 200 and failed.json["data"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({"delivery_ids": []}, "delivery_ids"),
    ({"delivery_ids": [0]}, "delivery_ids.0"),
    ({"webhook_id": 0}, "webhook_id"),
])
def test_replaying_with_an_empty_filter_is_refused_not_taken_as_everything(
        client, auth, uow_factory, catalogue, body, field):
    several_deliveries(uow_factory, 2)
    failing = SlowEndpoint(Clock(), seconds=0, status=503)
    deliver_due(uow_factory, DeliveryPolicy(max_attempts=1), send=failing)
    refused = client.post("/api/v1/webhooks/deliveries/replay", headers=auth("admin"), json=body)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == field
    with uow_factory() as uow:
        assert uow.webhooks.replay(delivery_ids=[], webhook_id=None) == 0
        assert uow.webhooks.replay(delivery_ids=None, webhook_id=0) == 0
        assert len(uow.webhooks.deliveries(status="failed", webhook_id=None, limit=10,
                                           after=None)) == 2


def test_registering_a_webhook_for_an_unknown_event_type_is_refused(client, auth,
                                                                    uow_factory, receiver):
    refused = client.post("/api/v1/webhooks", headers=auth("admin"),
                          json={"url": receiver.url, "event_types": ["unit.graded", "unit.grade"]})
    assert refused.status_code == 422
    [error] = refused.json["errors"]
    assert error["field"] == "event_types.1" and "unit.graded" in error["reason"]
    with pytest.raises(ValidationFailed) as refusal:
        register_webhook(uow_factory, url=receiver.url, actor="admin", addresses=LOOPBACK,
                         event_types=["unit.grade"])
    assert [e.field for e in refusal.value.errors] == ["event_types"]
    with uow_factory() as uow:
        assert uow.webhooks.list() == []


def test_an_admin_switches_a_webhook_off_and_its_deliveries_wait_until_it_is_on_again(
        client, auth, uow_factory, receiver, catalogue):
    admin = auth("admin")
    hook = client.post("/api/v1/webhooks", headers=admin, json={"url": receiver.url}).json
    change_stock(uow_factory)
    fan_out(uow_factory)
    off = client.patch(f"/api/v1/webhooks/{hook['id']}", headers=admin, json={"active": False})
    assert off.status_code == 200 and off.json["active"] is False and "secret" not in off.json
    assert client.get("/api/v1/webhooks", headers=admin).json["data"][0]["active"] is False
    assert deliver(uow_factory)["delivered"] == 0 and receiver.received == []
    assert client.patch(f"/api/v1/webhooks/{hook['id']}", headers=admin,
                        json={"active": True}).json["active"] is True
    assert deliver(uow_factory)["delivered"] == 1 and len(receiver.received) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_an_endpoint_that_redirects_is_a_failed_attempt_not_a_delivery(
        uow_factory, receiver, catalogue, status):
    register_webhook(uow_factory, url=receiver.url, actor="admin", addresses=LOOPBACK)
    change_stock(uow_factory)
    fan_out(uow_factory)
    receiver.status, receiver.location = status, receiver.url.replace("/erp/", "/moved/")
    assert deliver(uow_factory) == {"delivered": 0, "retrying": 1, "failed": 0}
    assert len(receiver.received) == 1 and receiver.fetched == []
    with uow_factory() as uow:
        [delivery] = uow.webhooks.deliveries(status="pending", webhook_id=None, after=0,
                                             limit=10)
    assert str(status) in delivery["last_error"] and "/moved/" in delivery["last_error"]


def test_a_webhook_url_with_credentials_in_it_is_refused(client, auth):
    answer = client.post("/api/v1/webhooks", headers=auth("admin"),
                         json={"url": "https://user:pass@erp.example/hook"})
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "url"


def test_an_address_the_http_library_cannot_use_is_a_failed_attempt_not_a_crash():
    answer = post_json("http://user:pass@127.0.0.1/hook", b"{}", {}, 2)
    assert answer.status is None and answer.error


def test_events_raised_before_a_webhook_is_switched_off_are_still_delivered(
        client, auth, uow_factory, receiver, catalogue):
    admin = auth("admin")
    hook = client.post("/api/v1/webhooks", headers=admin, json={"url": receiver.url}).json
    change_stock(uow_factory)  # raised while the webhook is on, but not yet fanned out
    client.patch(f"/api/v1/webhooks/{hook['id']}", headers=admin, json={"active": False})
    change_stock(uow_factory, 1)  # raised while it is off
    fan_out(uow_factory)
    client.patch(f"/api/v1/webhooks/{hook['id']}", headers=admin, json={"active": True})
    assert deliver(uow_factory)["delivered"] == 1
    [(_headers, body)] = receiver.received
    assert json.loads(body)["payload"]["on_hand"] == 3


def test_switching_a_webhook_off_needs_an_admin_an_existing_webhook_and_a_flag(client, auth):
    admin = auth("admin")
    hook = client.post("/api/v1/webhooks", headers=admin,
                       json={"url": "http://erp.example/hook"}).json
    assert client.patch(f"/api/v1/webhooks/{hook['id']}", headers=auth("planner"),
                        json={"active": False}).status_code == 403
    assert client.patch("/api/v1/webhooks/999999", headers=admin,
                        json={"active": False}).status_code == 404
    missing = client.patch(f"/api/v1/webhooks/{hook['id']}", headers=admin, json={})
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "active"
