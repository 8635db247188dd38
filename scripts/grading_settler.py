"""The settlement step beside a grading benchmark, as the scheduler runs it beside the web.

A grade records its unit's outcome; the `settle-refunds` job (config/schedules.toml) issues the
refunds and the customers' answers every few seconds, many returns at a time. A benchmark of
grading must pay for that too: `Settler.beside()` runs the same passes in a thread of the
benchmark while the clients grade, then settles what is left before the round's clock stops,
and counts the thread's CPU so it can be added to the server's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from sqlalchemy import func, select

from returns_inventory.persistence.engine import make_engine
from returns_inventory.persistence.refund_tables import inspection_outcomes, refunds
from returns_inventory.persistence.uow import Database, UnitOfWork
from returns_inventory.services.policies import Policies
from returns_inventory.services.settlement import settle_all
from returns_inventory.settings import Settings

# config/schedules.toml [jobs.settle-refunds] every_seconds
SETTLE_EVERY = 3.0


class Settler:
    def __init__(self, url: str, every: float = SETTLE_EVERY):
        self.engine = make_engine(url, pool_size=1, max_overflow=0)
        self.uow_factory = partial(UnitOfWork, Database(self.engine))
        self.policies = Policies.from_settings(Settings.load(env={}))
        self.every = every
        self.cpu_seconds = 0.0  # this settler's thread CPU, all rounds
        self.returns_settled = 0

    def _pass(self) -> None:
        started = time.thread_time()
        self.returns_settled += settle_all(self.uow_factory, self.policies)
        self.cpu_seconds += time.thread_time() - started

    @contextmanager
    def beside(self) -> Iterator[None]:
        """Passes every `every` seconds while the block runs; after it, one last pass."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(self.every):
                self._pass()

        thread = threading.Thread(target=loop, name="settler", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self._pass()

    def cpu_ms_per_return(self) -> float:
        return self.cpu_seconds * 1000 / max(self.returns_settled, 1)

    def state(self) -> str:
        """Refunds issued and outcomes still settling (none once a round has ended)."""
        with self.engine.connect() as conn:
            issued = conn.scalar(select(func.count()).select_from(refunds))
            waiting = conn.scalar(
                select(func.count())
                .select_from(inspection_outcomes)
                .where(inspection_outcomes.c.settling)
            )
        return f"{issued} refunds issued, {waiting} outcomes still settling"

    def close(self) -> None:
        self.engine.dispose()
