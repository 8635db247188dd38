"""Run a job only where this process holds its lease in the database.

Several scheduler processes (on one host or many) may run against one database; the lease row
in `job_leases` lets exactly one of them run a job for a given tick. The others skip and log.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from ..persistence.uow import UowFactory

log = logging.getLogger(__name__)

T = TypeVar("T")


def holder_name() -> str:
    """Who holds a lease: host and process id, enough to find it in `ps` on the right host."""
    return f"{socket.gethostname()}:{os.getpid()}"[:128]


def run_exclusively(
    uow_factory: UowFactory,
    job_id: str,
    work: Callable[[], T],
    *,
    holder: str,
    lease: timedelta,
    tick: datetime,
    now: datetime | None = None,
) -> tuple[bool, T | None]:
    """Take the lease, run `work`, release the lease; (False, None) when it is not ours.

    `tick` is when the run this one belongs to was due: a lease taken at or after it means
    another scheduler has already run this tick. `lease` bounds how long a run may hold it, so
    a process that dies mid-run blocks the job only until then.
    """
    now = now or datetime.now(UTC)
    with uow_factory() as uow:
        acquired = uow.leases.acquire(
            job_id, holder, now=now, expires_at=now + lease, not_before=tick
        )
        uow.commit()
    if not acquired:
        log.info("job %s skipped: another scheduler holds its lease or already ran this tick",
                 job_id)
        return False, None
    try:
        return True, work()
    finally:
        try:
            with uow_factory() as uow:
                uow.leases.release(job_id, holder, now=datetime.now(UTC))
                uow.commit()
        except Exception:  # the lease then simply expires; the job's outcome stands
            log.exception("job %s: could not release its lease", job_id)
