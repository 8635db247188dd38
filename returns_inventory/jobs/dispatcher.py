"""The webhook dispatcher: a thread of the scheduler process that never stops sending.

It fans new events out and sends what is due, batch after batch, as long as there is work;
then it sleeps until an event commits (PostgreSQL: LISTEN on the outbox's NOTIFY, which the
committing process sends just after its commit, at most one every 25 ms) or, on
SQLite, until its next poll, and at the latest until the next retry is due. A failing batch
is logged and tried again; it never stops the scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..integrations.webhook_http import AddressPolicy
from ..persistence.outbox_listener import OutboxListener
from ..services.webhook_dispatch import Concurrency, Dispatch
from ..services.webhooks import DeliveryPolicy, fan_out

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, settings, uow_factory: Callable, *, idle_seconds: float | None = None):
        doc = settings.policies.get("webhooks", {}).get("dispatcher", {})
        self.settings, self.uow_factory = settings, uow_factory
        # SQLite has no NOTIFY: it polls this often; PostgreSQL wakes at once and looks
        # this often for retries that came due.
        self.idle_seconds = float(idle_seconds or doc.get("idle_seconds", 0.25))
        # Loops at once: while one waits for its sends, another claims or records (the
        # database's part of a batch overlaps the network's).
        self.loops = int(doc.get("loops", 2))
        self.dispatch = Dispatch(uow_factory, DeliveryPolicy.from_settings(settings),
                                 Concurrency.from_settings(settings),
                                 addresses=AddressPolicy.from_settings(settings))
        self._stop = threading.Event()
        self.idle = threading.Event()  # set while every loop waits for work (tests watch it)
        self._waiting = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> Dispatcher:
        self._threads = [threading.Thread(target=self.run, name=f"webhook-dispatcher-{n}",
                                          daemon=True) for n in range(self.loops)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        self.dispatch.close()

    def run(self) -> None:
        listener = self._listen()
        try:
            while not self._stop.is_set():
                try:
                    busy = self.pass_once()
                except Exception:
                    log.exception("webhook dispatcher: a pass failed; trying again")
                    busy = False
                    self._stop.wait(1.0)
                if not busy:
                    self._idle(+1)
                    self._wait(listener)
                    self._idle(-1)
        finally:
            if listener is not None:
                listener.close()

    def _idle(self, change: int) -> None:
        with self._lock:
            self._waiting += change
            if self._waiting == self.loops:
                self.idle.set()
            else:
                self.idle.clear()

    def pass_once(self) -> bool:
        """Fan out and send one batch; True when there may be more to do at once."""
        fanned = fan_out(self.uow_factory)
        figures = self.dispatch.run_once()
        return bool(fanned) or figures["claimed"] > 0

    def _listen(self) -> OutboxListener | None:
        return OutboxListener.open(self.settings.database_url)

    def _wait(self, listener) -> None:
        if listener is None:
            self._stop.wait(self.idle_seconds)
            return
        # Back at the first notification, or after idle_seconds (at least a second) for
        # retries that came due,
        # listening a second at a time so that stop() is heard.
        until = time.monotonic() + max(self.idle_seconds, 1.0)
        while not self._stop.is_set() and (left := until - time.monotonic()) > 0:
            if listener.heard(min(left, 1.0)):
                return

