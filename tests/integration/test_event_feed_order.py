"""The event feed's cursor is an event id: no committed event may ever appear below a cursor
the feed has handed out, however the writers' transactions interleave. A transaction takes
its transaction id with its first write (the stock) and writes its events at commit."""

from __future__ import annotations

import itertools
from functools import partial
from threading import Event, Thread

import pytest
from sqlalchemy import text

from returns_inventory.persistence.engine import make_engine
from returns_inventory.persistence.uow import Database, UnitOfWork
from returns_inventory.services.stock import adjust_stock
from tests.factories import add_item, add_location

WRITERS = 4


class Writer:
    """A transaction that has written (so it has its transaction id) and announces `name`
    when it commits, as every service does."""

    def __init__(self, uow_factory, name: str):
        self.uow = uow_factory().__enter__()
        self.pid = self.uow.connection.scalar(text("SELECT pg_backend_pid()"))
        self.uow.connection.execute(text("SELECT pg_current_xact_id()"))
        self.uow.events.add("stock.adjusted", {"name": name}, actor="erp")

    def write_events(self) -> None:
        """What commit does first: the events get their ids, the transaction stays open."""
        self.uow.events.flush()

    def commit(self) -> None:
        self.uow.commit()
        self.uow.__exit__(None, None, None)


def waiting_for_a_lock(uow_factory, pid: int) -> bool:
    with uow_factory() as uow:
        return uow.connection.scalar(text(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid}) or False


def read(uow_factory, cursor: int) -> list[tuple[int, str]]:
    with uow_factory() as uow:
        return [(e.id, e.payload["name"]) for e in uow.events.after(cursor, 1000)]


class Step(Thread):
    """One party's move, on a connection of its own: it may have to wait for another."""

    def __init__(self, uow_factory, move):
        super().__init__()
        self.uow_factory, self.move, self.result = uow_factory, move, None
        self.pid: int | None = None  # the backend the move runs on, once it has one
        self.start()

    def run(self) -> None:
        self.result = self.move(self)

    def settled(self) -> None:
        """Until the move is done or waits for a lock another party holds (progress, not
        time): whichever the feed's rule makes it do."""
        while self.is_alive() and not (
                self.pid and waiting_for_a_lock(self.uow_factory, self.pid)):
            pass


@pytest.mark.postgres_only
def test_an_older_transaction_committing_its_event_first_cannot_make_a_reader_skip_a_younger_one(
        committing_db, backend):
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the interleaving needs PostgreSQL")
    uow_factory = partial(UnitOfWork, committing_db)
    older = Writer(uow_factory, "older")  # took its transaction id first
    younger = Writer(uow_factory, "younger")
    younger.write_events()  # its event has an id; it has not committed yet

    def commit_older(step):
        step.pid = older.pid
        older.commit()

    def follow_the_feed(step):
        with uow_factory() as uow:
            step.pid = uow.connection.scalar(text("SELECT pg_backend_pid()"))
            return [(e.id, e.payload["name"]) for e in uow.events.after(0, 1000)]

    steps = []
    try:
        steps.append(Step(uow_factory, commit_older))  # writes its event and commits
        steps[-1].settled()
        steps.append(Step(uow_factory, follow_the_feed))  # a reader, meanwhile
        steps[-1].settled()
    finally:
        younger.commit()
        for step in steps:
            step.join()
    seen = steps[1].result
    cursor = seen[-1][0] if seen else 0  # what the reader keeps as its cursor
    seen += read(uow_factory, cursor)
    assert sorted(name for _, name in seen) == ["older", "younger"]
    assert [id for id, _ in seen] == [id for id, _ in read(uow_factory, 0)]


@pytest.fixture
def busy_db(committing_db):
    """Its own pool, as wide as the writers and the reader."""
    url = committing_db.engine.url.render_as_string(hide_password=False)
    database = Database(make_engine(url, pool_size=WRITERS + 2, max_overflow=0))
    yield partial(UnitOfWork, database)
    database.dispose()


def test_a_reader_following_the_feed_among_busy_writers_reads_every_event_once_in_order(
        busy_db):
    uow_factory = busy_db
    add_item(uow_factory)
    for n in range(WRITERS):  # a balance each, so the writers do not queue on one row
        add_location(uow_factory, f"WH{n}")
    stop, committed = Event(), [0] * WRITERS

    def write(n: int) -> None:
        for i in itertools.count():
            if stop.is_set():
                return
            adjust_stock(uow_factory, sku="TEE-BLK", size="M", location=f"WH{n}",
                         condition="sellable", quantity=1, reason=f"{n}-{i}", actor="erp")
            committed[n] += 1

    with uow_factory() as uow:
        cursor = start = uow.events.position().cursor
    pool = [Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in pool:
        thread.start()
    seen: list[int] = []
    try:
        while sum(committed) < 400:
            with uow_factory() as uow:
                events = uow.events.after(cursor, 50, "stock.adjusted")
            if events:
                seen += [e.id for e in events]
                cursor = events[-1].id
    finally:
        stop.set()
        for thread in pool:
            thread.join()
    with uow_factory() as uow:
        seen += [e.id for e in uow.events.after(cursor, 100_000, "stock.adjusted")]
        every = [e.id for e in uow.events.after(start, 100_000, "stock.adjusted")]
    assert len(every) == sum(committed)
    assert seen == every
