"""The bench's work list: what waits to be graded (oldest first), to be reviewed, in repair."""

from __future__ import annotations

from datetime import UTC, datetime

from ..domain.grading import UnitStatus
from ..persistence.uow import UowFactory

SHOWN = 200  # a longer queue is worked from the top; the counts say how long it is


def grading_queue(uow_factory: UowFactory, *, location: str | None = None,
                  reason: str | None = None, now: datetime | None = None) -> dict:
    """Units waiting for grading by location and reason, blind receipts to review, units in
    repair, each with its age; and how many units are in each state."""
    now = now or datetime.now(UTC)
    with uow_factory() as uow:
        waiting = uow.bench.queued(status=UnitStatus.AWAITING_GRADING.value, flagged=False,
                                   location=location or None, reason=reason or None,
                                   limit=SHOWN)
        # Flagged units stay to review after grading: whose they are is still unknown.
        review = uow.bench.queued(flagged=True, location=location or None, limit=SHOWN)
        repair = uow.bench.queued(status=UnitStatus.IN_REPAIR.value, location=location or None,
                                  limit=SHOWN)
        counts = uow.bench.count_by_status()
        flagged = uow.bench.flagged_count()
        locations = uow.bench.queue_locations()
    for unit in (*waiting, *review, *repair):
        unit["age"] = age_in_words(now - unit["received_at"])
    return {"waiting": waiting, "review": review, "repair": repair, "locations": locations,
            "counts": counts, "flagged": flagged}


def state_counts(uow_factory: UowFactory) -> dict[str, int]:
    """How many units are in each state, for the station's home."""
    with uow_factory() as uow:
        counts = uow.bench.count_by_status()
        counts["flagged_for_review"] = uow.bench.flagged_count()
    return counts


def age_in_words(age) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} days"
