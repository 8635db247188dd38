"""Which events an endpoint hears: exactly those committed after it was registered (or after
the `since` cursor it gave), and none committed while it was switched off."""

from __future__ import annotations

import itertools
from functools import partial
from threading import Event, Lock, Thread

import pytest
from sqlalchemy import create_engine, text

from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.stock import adjust_stock
from returns_inventory.services.webhooks import fan_out, register_webhook, set_webhook_active
from tests.databases import fresh_database
from tests.factories import add_item, add_location
from tests.integration import webhook_support

URL = "http://erp.example/hook"


@pytest.fixture(autouse=True)
def no_traffic(monkeypatch):
    """Nothing here is sent, and erp.example is never really looked up."""
    _dns, guard = webhook_support.install(monkeypatch)
    yield
    assert guard.refused == []


def change_stock(uow_factory, quantity: int = 1) -> int:
    """One stock.adjusted event; answers its id."""
    adjust_stock(uow_factory, sku="TEE-BLK", size="M", location="WH1", condition="sellable",
                 quantity=quantity, reason="count", actor="erp")
    with uow_factory() as uow:
        return uow.events.after(0, 100_000, "stock.adjusted")[-1].id


def heard(uow_factory, webhook_id: int) -> list[int]:
    """The event ids an endpoint has deliveries for, after handing out everything new."""
    while fan_out(uow_factory):
        pass
    rows, after = [], None
    with uow_factory() as uow:
        # Page through all of them: busy writers can commit thousands of events while it is on.
        while page := uow.webhooks.deliveries(status=None, webhook_id=webhook_id, limit=1000,
                                              after=after):
            rows += page
            after = page[-1]["id"]
    return sorted(r["event_id"] for r in rows)


@pytest.mark.usefixtures("catalogue")
def test_a_new_endpoint_hears_none_of_the_events_committed_before_it_was_registered(
        uow_factory):
    change_stock(uow_factory)
    change_stock(uow_factory)  # neither is fanned out yet when the endpoint arrives
    hook = register_webhook(uow_factory, url=URL, actor="admin")
    after = change_stock(uow_factory)
    assert heard(uow_factory, hook["id"]) == [after]


@pytest.mark.usefixtures("catalogue")
def test_endpoints_registered_at_different_times_each_hear_from_their_own_start(uow_factory):
    first = register_webhook(uow_factory, url=URL + "/1", actor="admin")
    one = change_stock(uow_factory)
    second = register_webhook(uow_factory, url=URL + "/2", actor="admin")
    two = change_stock(uow_factory)
    assert heard(uow_factory, first["id"]) == [one, two]
    assert heard(uow_factory, second["id"]) == [two]


@pytest.mark.usefixtures("catalogue")
def test_an_endpoint_registered_with_a_since_cursor_hears_the_events_after_it(uow_factory):
    ids = [change_stock(uow_factory) for _ in range(3)]
    hook = register_webhook(uow_factory, url=URL, actor="admin", since=ids[0])
    assert hook["since"] == ids[0]
    later = change_stock(uow_factory)
    assert heard(uow_factory, hook["id"]) == [*ids[1:], later]


@pytest.mark.usefixtures("catalogue")
def test_since_is_checked_over_http_and_the_starting_cursor_is_answered(
        client, auth, uow_factory):
    admin = auth("admin")
    newest = change_stock(uow_factory)
    created = client.post("/api/v1/webhooks", headers=admin, json={"url": URL})
    assert created.status_code == 201 and created.json["since"] == newest
    for since in (newest + 1, -1):
        refused = client.post("/api/v1/webhooks", headers=admin,
                              json={"url": URL, "since": since})
        assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "since"
    assert client.post("/api/v1/webhooks", headers=admin,
                       json={"url": URL, "since": 0}).json["since"] == 0


@pytest.mark.usefixtures("catalogue")
def test_events_committed_while_an_endpoint_was_off_are_never_sent_even_if_not_yet_fanned_out(
        uow_factory):
    hook = register_webhook(uow_factory, url=URL, actor="admin")
    set_webhook_active(uow_factory, hook["id"], active=False)
    change_stock(uow_factory)  # while off; the dispatcher has not run since
    set_webhook_active(uow_factory, hook["id"], active=True)
    after = change_stock(uow_factory)
    assert heard(uow_factory, hook["id"]) == [after]


@pytest.mark.usefixtures("catalogue")
def test_an_endpoint_hears_what_was_committed_while_it_was_on_across_an_off_period(
        uow_factory):
    hook = register_webhook(uow_factory, url=URL, actor="admin")
    before = change_stock(uow_factory)  # on, not yet fanned out when it goes off
    set_webhook_active(uow_factory, hook["id"], active=False)
    change_stock(uow_factory)
    assert heard(uow_factory, hook["id"]) == [before]
    change_stock(uow_factory)
    set_webhook_active(uow_factory, hook["id"], active=True)
    set_webhook_active(uow_factory, hook["id"], active=True)  # again: changes nothing
    again = change_stock(uow_factory)
    assert heard(uow_factory, hook["id"]) == [before, again]


# On PostgreSQL a transaction still open when an endpoint starts or stops may have begun
# (and written its stock) before events that had already committed. (SQLite runs one writer
# at a time: the case cannot arise there.)


@pytest.fixture
def committing(committing_db, backend):
    if backend != "postgresql":
        pytest.skip("SQLite commits events one writer at a time, in id order")
    uow_factory = partial(UnitOfWork, committing_db)
    add_item(uow_factory)
    add_location(uow_factory)
    return uow_factory


def _raise(uow_factory, name: str) -> None:
    """As a service does: the transaction has its id (its stock writes) before its event."""
    with uow_factory() as uow:
        if uow.dialect == "postgresql":
            uow.connection.execute(text("SELECT pg_current_xact_id()"))
        uow.events.add("stock.adjusted", {"name": name}, actor="erp")
        uow.commit()


def _names(uow_factory, webhook_id: int) -> list[str]:
    ids = heard(uow_factory, webhook_id)
    with uow_factory() as uow:
        events = {e.id: e for e in uow.events.after(0, 100_000)}
    return [events[i].payload["name"] for i in ids]


class OpenTransaction:
    """A transaction that has begun writing (it has its transaction id) and announces its
    event when it commits, as every service does."""

    def __init__(self, uow_factory, name: str):
        self.uow = uow_factory().__enter__()
        self.uow.connection.execute(text("SELECT pg_current_xact_id()"))
        self.uow.events.add("stock.adjusted", {"name": name}, actor="erp")

    def commit(self) -> None:
        self.uow.commit()
        self.uow.__exit__(None, None, None)


def test_an_event_that_commits_after_registration_below_an_earlier_committed_id_is_heard(
        committing):
    _raise(committing, "before")
    slow = OpenTransaction(committing, "open at registration")  # the older transaction
    _raise(committing, "committed just before registration")
    hook = register_webhook(committing, url=URL, actor="admin")
    slow.commit()
    _raise(committing, "after")
    assert _names(committing, hook["id"]) == ["open at registration", "after"]


def test_an_event_that_commits_after_the_switch_off_is_not_heard_whatever_its_id(committing):
    hook = register_webhook(committing, url=URL, actor="admin")
    slow = OpenTransaction(committing, "open at switch-off")
    _raise(committing, "committed before switch-off")
    set_webhook_active(committing, hook["id"], active=False)
    slow.commit()
    set_webhook_active(committing, hook["id"], active=True)
    _raise(committing, "after")
    assert _names(committing, hook["id"]) == ["committed before switch-off", "after"]



def test_a_transaction_open_in_another_database_on_the_server_holds_no_event_back(
        committing, tmp_path):
    hook = register_webhook(committing, url=URL, actor="admin")
    with fresh_database("postgresql", tmp_path, migrated=False) as url:
        elsewhere = create_engine(url)
        try:
            with elsewhere.connect() as other:
                other.execute(text("SELECT pg_current_xact_id()"))  # open, with an id
                _raise(committing, "committed here meanwhile")
                assert _names(committing, hook["id"]) == ["committed here meanwhile"]
                other.rollback()
        finally:
            elsewhere.dispose()


class Writers:
    """Threads committing events without pause, each stamped with tickets from one counter
    taken before its transaction began and after it committed."""

    def __init__(self, uow_factory, threads: int = 4):
        self.uow_factory, self.tickets, self.lock = uow_factory, itertools.count(), Lock()
        self.spans: dict[str, tuple[int, int]] = {}
        self.stop = Event()
        self.pool = [Thread(target=self._write, args=(n,)) for n in range(threads)]

    def ticket(self) -> int:
        with self.lock:
            return next(self.tickets)

    def _write(self, n: int) -> None:
        for i in itertools.count():
            if self.stop.is_set():
                return
            name, began = f"{n}-{i}", self.ticket()
            _raise(self.uow_factory, name)
            self.spans[name] = (began, self.ticket())

    def wait_for(self, count: int) -> None:
        """Until `count` more events have committed (progress, not time)."""
        target = len(self.spans) + count
        while len(self.spans) < target:
            self.stop.wait(0.001)

    def between(self, after: int, before: int) -> set[str]:
        """Events whose whole transaction ran between the two tickets."""
        return {name for name, (began, done) in self.spans.items()
                if began > after and done < before}


def test_an_endpoint_switched_on_and_off_among_busy_writers_hears_only_its_own_time(
        committing_db, backend):
    uow_factory = partial(UnitOfWork, committing_db)
    writers = Writers(uow_factory)
    for thread in writers.pool:
        thread.start()
    try:
        writers.wait_for(20)
        start = writers.ticket()
        hook = register_webhook(uow_factory, url=URL, actor="admin")
        registered = writers.ticket()
        fan_out(uow_factory)
        writers.wait_for(20)
        going_off = writers.ticket()
        set_webhook_active(uow_factory, hook["id"], active=False)
        off = writers.ticket()
        writers.wait_for(20)
        going_on = writers.ticket()
        set_webhook_active(uow_factory, hook["id"], active=True)
        on = writers.ticket()
        writers.wait_for(20)
        end = writers.ticket()
    finally:
        writers.stop.set()
        for thread in writers.pool:
            thread.join()
    got = set(_names(uow_factory, hook["id"]))
    assert got, "it heard events while it was on"
    assert not got & writers.between(-1, start)
    assert not got & writers.between(off, going_on)
    # And every event committed while it was on: none passed over by a cursor.
    assert writers.between(registered, going_off) | writers.between(on, end) <= got
