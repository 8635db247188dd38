"""Being told when outbox events commit: PostgreSQL's LISTEN on the channel the outbox's
writers NOTIFY after they commit (OutboxNotifier, below)."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

import psycopg
from sqlalchemy.engine import make_url

from .repositories.events import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

# At most one NOTIFY per this many seconds from one process: the commits of a burst of grades
# share one wake-up of the dispatcher, which reads every event that has committed anyway. Each
# NOTIFY is a round trip and a commit of its own: at 5 ms a gunicorn worker grading 100-200
# units a second still sent one for nearly every grade. 25 ms adds at most that to a
# webhook's lag (the target is a p99 under 2 s).
NOTIFY_EVERY_SECONDS = 0.025


def _libpq(database_url: str) -> str:
    """SQLAlchemy's postgresql+psycopg://… as libpq takes it."""
    return "postgresql://" + database_url.split("://", 1)[1]


class OutboxListener:
    """A connection of its own, listening; `heard(timeout)` waits for the next commit."""

    def __init__(self, connection: psycopg.Connection):
        self.connection = connection

    @classmethod
    def open(cls, database_url: str) -> OutboxListener | None:
        """None on SQLite (nothing to listen to) or when PostgreSQL refuses: callers poll."""
        if not database_url.startswith("postgresql"):
            return None
        try:
            connection = psycopg.connect(_libpq(database_url), autocommit=True)
            connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
        except psycopg.Error:
            log.exception("cannot LISTEN for outbox events; polling instead")
            return None
        return cls(connection)

    def heard(self, timeout: float) -> bool:
        """True at the first notification within `timeout` seconds (others queued with it
        are left for the next call, which then returns at once)."""
        return any(True for _ in self.connection.notifies(timeout=timeout, stop_after=1))

    def close(self) -> None:
        self.connection.close()


class OutboxNotifier:
    """Tells listeners that events have committed: a thread of this process, on a connection
    of its own, sends one NOTIFY for every commit that pokes it while it is idle, and at most
    one per `every` seconds.

    Why not in the committing transaction: PostgreSQL serialises notifying commits (each takes
    a lock on the database at COMMIT and holds it through its WAL flush), so every grade
    queued behind the others' commits. Sent after the commit, the notification cannot announce
    a change that rolled back; at worst it wakes the dispatcher for nothing. If it is lost (the
    process dies in between, the database refuses), the dispatcher's own poll finds the events
    (jobs/dispatcher.py, `idle_seconds`, at least a second)."""

    def __init__(self, database_url: str, *, every: float = NOTIFY_EVERY_SECONDS):
        self._url, self._every = _libpq(database_url), every
        self._wanted = threading.Event()
        # Pokes so far, and the number of them the last notification sent covered.
        self._poked = self._covered = 0
        self._pid: int | None = None  # the process whose thread sends (gunicorn forks)
        self._starting = threading.Lock()
        self._connection: psycopg.Connection | None = None
        self._sending = threading.Lock()  # the thread's notify against the exit's close

    def poke(self) -> None:
        """Some events have just committed: notify soon (never blocks on the database)."""
        self._poked += 1
        self._wanted.set()
        if self._pid != os.getpid():
            self._start()

    def _start(self) -> None:
        with self._starting:
            if self._pid == os.getpid():
                return
            # After a fork nothing of the parent's thread or connection is ours.
            self._pid, self._connection = os.getpid(), None
            threading.Thread(target=self._run, name="outbox-notifier", daemon=True).start()
            atexit.register(self._last_word, os.getpid())

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            poked = self._poked
            if self._notify():
                self._covered = max(self._covered, poked)
            time.sleep(self._every)

    def _notify(self) -> bool:
        with self._sending:
            return self._notify_now()

    def _notify_now(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg.connect(self._url, autocommit=True)
            self._connection.execute(_NOTIFY, [OUTBOX_CHANNEL])
            return True
        except psycopg.Error as error:
            # The dispatcher's poll still finds the events, a second or so later.
            log.warning("could not notify the webhook dispatcher: %s", error)
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            return False

    def retire(self) -> None:
        """The database is going away (dropped on purpose): nothing more is owed to it, at
        exit or after."""
        with self._sending:
            self._covered = self._poked = 0
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _last_word(self, pid: int) -> None:
        # A command that commits events and exits at once: its notification must not die
        # with the daemon thread (which may be connecting still), so it is sent from here.
        if pid != os.getpid():
            return
        # The thread's own connection ends with the process: closed here, not left to the
        # garbage collector at shutdown (which warns of an open connection).
        if self._sending.acquire(timeout=1.0):  # not held up by a database that hangs
            try:
                if self._connection is not None:
                    self._connection.close()
            finally:
                self._sending.release()
        if self._covered >= self._poked:
            return
        try:
            with psycopg.connect(self._url, autocommit=True) as connection:
                connection.execute(_NOTIFY, [OUTBOX_CHANNEL])
        except psycopg.Error as error:
            log.warning("could not notify the webhook dispatcher: %s", error)


_NOTIFY = "SELECT pg_notify(%s, '')"
_NOTIFIERS: dict[str, OutboxNotifier] = {}
_NOTIFIERS_LOCK = threading.Lock()


def notifier_for(database_url: str) -> OutboxNotifier:
    """The one notifier of this process for a database (every engine on it shares it)."""
    with _NOTIFIERS_LOCK:
        found = _NOTIFIERS.get(database_url)
        if found is None:
            found = _NOTIFIERS[database_url] = OutboxNotifier(database_url)
        return found


def retire_notifiers(database_name: str) -> None:
    """Before a database is dropped: its notifiers owe it nothing, not even a last word at
    exit (which would fail on a database that no longer exists)."""
    with _NOTIFIERS_LOCK:
        for url in [u for u in _NOTIFIERS if make_url(u).database == database_name]:
            _NOTIFIERS.pop(url).retire()
