"""Is a scheduler alive? Read from the job leases it takes on every tick."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from .run_guard import RUN_LEASE

DEFAULT_STALE_AFTER = 60


def scheduler_heartbeat(uow_factory: Callable, settings, now: datetime | None = None) -> dict:
    """{"status": "ok" | "stale" | "never_seen", "last_tick", "age_seconds", ...}"""
    stale_after = int(settings.policies.get("schedules", {}).get("scheduler", {})
                      .get("stale_after_seconds", DEFAULT_STALE_AFTER))
    with uow_factory() as uow:
        # The run lease is taken by `forecast run` on the command line too: not a heartbeat.
        last = uow.leases.last_taken(besides=(RUN_LEASE,))
    if last is None:
        return {"status": "never_seen", "stale_after_seconds": stale_after}
    age = ((now or datetime.now(UTC)) - last).total_seconds()
    return {"status": "stale" if age > stale_after else "ok", "last_tick": last.isoformat(),
            "age_seconds": round(age, 1), "stale_after_seconds": stale_after}
