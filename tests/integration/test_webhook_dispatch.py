"""The dispatcher: deliveries go out several at once over kept-alive connections, in order
for an endpoint that asks for it, and as soon as events commit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import select

from returns_inventory.integrations.webhook_http import AddressPolicy
from returns_inventory.jobs.dispatcher import Dispatcher
from returns_inventory.persistence.outbox_listener import OutboxListener
from returns_inventory.persistence.planning_tables import webhook_deliveries
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.stock import adjust_stock
from returns_inventory.services.webhook_dispatch import Concurrency, Dispatch
from returns_inventory.services.webhooks import DeliveryPolicy, fan_out, register_webhook
from tests.factories import add_item, add_location
from tests.integration import webhook_support

LOOPBACK = AddressPolicy(("127.0.0.1",))
POLICY = DeliveryPolicy(max_attempts=3, base_delay_seconds=10, timeout_seconds=5)


@pytest.fixture(autouse=True)
def no_traffic_beyond_loopback(monkeypatch):
    _dns, guard = webhook_support.install(monkeypatch)
    yield
    assert guard.refused == []


@pytest.fixture
def erp():
    r = webhook_support.KeepAliveReceiver(delay=0.02)
    yield r
    r.close()


def events(uow_factory, n: int) -> None:
    for _ in range(n):
        adjust_stock(uow_factory, sku="TEE-BLK", size="M", location="WH1",
                     condition="sellable", quantity=1, reason="count", actor="erp")


def drain(dispatch: Dispatch, uow_factory) -> None:
    fan_out(uow_factory)
    while dispatch.run_once()["claimed"]:
        pass


def test_endpoints_get_every_event_once_several_at_a_time_over_kept_connections(
        uow_factory, catalogue, erp):
    for path in ("/a", "/b"):
        register_webhook(uow_factory, url=erp.base + path, actor="admin", addresses=LOOPBACK)
    events(uow_factory, 24)
    dispatch = Dispatch(uow_factory, POLICY, Concurrency(overall=8, per_endpoint=3,
                                                          batch_size=10), addresses=LOOPBACK)
    try:
        drain(dispatch, uow_factory)
    finally:
        dispatch.close()
    for path in ("/a", "/b"):
        got = erp.events(path)
        assert len(got) == 24 and len(set(got)) == 24
    assert erp.most_in_flight > 1  # sent concurrently
    # Kept alive: at most per_endpoint connections per endpoint for 48 requests.
    assert len(erp.connections) <= 6
    with uow_factory() as uow:
        statuses = set(uow.connection.scalars(select(webhook_deliveries.c.status)))
    assert statuses == {"delivered"}


class Clock:
    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_an_ordered_endpoint_gets_its_events_in_feed_order_even_across_a_retry(
        uow_factory, catalogue, erp):
    register_webhook(uow_factory, url=erp.base + "/ordered", actor="admin", ordered=True,
                     addresses=LOOPBACK)
    events(uow_factory, 6)
    fan_out(uow_factory)
    with uow_factory() as uow:
        ids = list(uow.connection.scalars(
            select(webhook_deliveries.c.event_id).order_by(webhook_deliveries.c.event_id)))
    erp.fail_first = {ids[2]}
    clock = Clock()
    dispatch = Dispatch(uow_factory, POLICY, Concurrency(overall=8, per_endpoint=4),
                        addresses=LOOPBACK, clock=clock)
    try:
        first = dispatch.run_once()
        # Two went out; the third failed, and the three after it wait behind it, unsent.
        assert erp.events("/ordered") == ids[:2]
        assert (first["delivered"], first["retry"], first["released"]) == (2, 1, 3)
        assert dispatch.run_once()["claimed"] == 0  # nothing jumps the queue
        clock.now += timedelta(seconds=POLICY.base_delay_seconds)
        dispatch.run_once()
    finally:
        dispatch.close()
    assert erp.events("/ordered") == ids
    with uow_factory() as uow:
        attempts = dict(uow.connection.execute(
            select(webhook_deliveries.c.event_id, webhook_deliveries.c.attempts)).all())
    assert attempts == {i: (2 if i == ids[2] else 1) for i in ids}  # waiting was no attempt


def test_the_dispatcher_wakes_when_an_event_commits(committing_db, backend, erp, settings):
    """On PostgreSQL it sleeps for a minute unless NOTIFY wakes it; on SQLite it polls."""
    uow_factory = partial(UnitOfWork, committing_db)
    add_item(uow_factory, "TEE-BLK", "M")
    add_location(uow_factory, "WH1")
    url = committing_db.engine.url.render_as_string(hide_password=False)
    settings = settings.replace(database_url=url,
                                webhook_allowed_internal_hosts=("127.0.0.1",))
    register_webhook(uow_factory, url=erp.base + "/live", actor="admin", addresses=LOOPBACK)
    idle = 60 if backend == "postgresql" else 0.05
    dispatcher = Dispatcher(settings, uow_factory, idle_seconds=idle).start()
    try:
        assert dispatcher.idle.wait(10)
        events(uow_factory, 1)
        deadline = time.monotonic() + 20
        while not erp.events("/live") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        dispatcher.stop()
    assert len(erp.events("/live")) == 1


# A command (an import, a CLI verb) commits its events and exits: the notification is sent
# from a thread of the committing process, after the commit, so it must not die with it.
_COMMIT_AND_EXIT = """
import sys
from returns_inventory.persistence.engine import make_engine
from returns_inventory.persistence.uow import Database, UnitOfWork
with UnitOfWork(Database(make_engine(sys.argv[1]))) as uow:
    uow.events.add("stock.adjusted", {"by": "a command"}, actor="cli")
    uow.commit()
"""


def test_a_command_that_commits_an_event_and_exits_at_once_still_wakes_the_dispatcher(
        committing_db, backend):
    if backend != "postgresql":
        pytest.skip("SQLite has no NOTIFY: its dispatcher polls")
    url = committing_db.engine.url.render_as_string(hide_password=False)
    listener = OutboxListener.open(url)
    assert listener is not None
    try:
        subprocess.run([sys.executable, "-c", _COMMIT_AND_EXIT, url], check=True, timeout=120)
        assert listener.heard(30)
    finally:
        listener.close()


def test_a_kept_connection_the_endpoint_closed_meanwhile_costs_no_attempt(
        uow_factory, catalogue, erp):
    erp.drop_connections = True
    register_webhook(uow_factory, url=erp.base + "/idle", actor="admin", addresses=LOOPBACK)
    dispatch = Dispatch(uow_factory, POLICY, Concurrency(overall=1, per_endpoint=1),
                        addresses=LOOPBACK)
    try:
        for _ in range(3):  # each send finds the connection of the one before closed
            events(uow_factory, 1)
            drain(dispatch, uow_factory)
    finally:
        dispatch.close()
    assert len(erp.events("/idle")) == 3
    with uow_factory() as uow:
        rows = uow.connection.execute(
            select(webhook_deliveries.c.status, webhook_deliveries.c.attempts)).all()
    assert sorted(rows) == [("delivered", 1)] * 3
    assert len(erp.connections) == 3


def test_an_admin_registers_an_ordered_webhook_over_http(client, auth, erp):
    answer = client.post("/api/v1/webhooks", headers=auth("admin"),
                         json={"url": "https://erp.example/hooks", "ordered": True})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["ordered"] is True
    listed = client.get("/api/v1/webhooks", headers=auth("admin")).get_json()["data"]
    assert [(w["url"], w["ordered"]) for w in listed] == [("https://erp.example/hooks", True)]
    refused = client.post("/api/v1/webhooks", headers=auth("admin"),
                          json={"url": "https://erp.example/hooks", "ordered": 1})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["ordered"]


def test_a_database_dropped_on_purpose_is_owed_no_notification_at_exit(caplog):
    """A test run (or an operator) drops a database the process has written events to: the
    notifier is retired first, so the process's exit does not try to wake a dispatcher on a
    database that no longer exists."""
    from tests.databases import POSTGRES_SKIP_REASON, POSTGRES_URL
    if not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    from sqlalchemy.engine import make_url

    from returns_inventory.persistence import outbox_listener

    gone = make_url(POSTGRES_URL).set(database="ri_test_dropped_long_ago")
    url = gone.render_as_string(hide_password=False)

    def poked_and_refused() -> outbox_listener.OutboxNotifier:
        notifier = outbox_listener.notifier_for(url)
        notifier._pid = os.getpid()  # as if its thread ran: only the exit is under test
        notifier.poke()
        return notifier

    caplog.set_level("WARNING", logger=outbox_listener.__name__)
    poked_and_refused()._last_word(os.getpid())
    assert "could not notify" in caplog.text  # owed a last word, which the server refuses
    caplog.clear()

    notifier = poked_and_refused()
    outbox_listener.retire_notifiers("ri_test_dropped_long_ago")
    notifier._last_word(os.getpid())
    assert caplog.text == ""
    assert outbox_listener.notifier_for(url) is not notifier  # forgotten too
    outbox_listener.retire_notifiers("ri_test_dropped_long_ago")
