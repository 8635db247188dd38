"""A returns report nobody stored, too long to compute while a reader waits: asked for once,
computed in the background, read when done (as GitHub's statistics API answers 202).

A read of such a window claims it by storing a placeholder report under the report's own key
(`returns_reports`' unique window, family and policy): the first reader's insert wins in any
process, so concurrent first reads start one computation, and every read until it is stored
answers "computing" with how long to wait. The computation replaces the placeholder with the
report in one transaction; one that failed removes it, and one whose process died is taken
over by the next read once it is older than CLAIM_MINUTES.

The computation runs on a thread of the process that took the claim: the request that asked
returns at once instead of holding a worker for seconds.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..domain.errors import Conflict
from ..domain.returns import ReturnsPolicy
from ..domain.sales_window import SalesWindow
from ..persistence.uow import UowFactory
from .stored_reports import compute_report, report_key

log = logging.getLogger(__name__)

# A claim older than this belongs to a computation that died with its process.
CLAIM_MINUTES = 10
# One report at a time per process: a second would only share the same cores.
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="returns-report")
Background = Callable[[Callable[[], None]], object]


def in_background(work: Callable[[], None]) -> Future:
    return _executor.submit(work)


@dataclass(frozen=True)
class ReportComputing:
    """A report being computed: what the read answers instead of its page."""

    since: date
    until: date
    requested_at: datetime
    retry_after: int  # seconds until it is likely stored


def expected_ms(uow) -> int:
    """What computing a report is expected to take: the longest a report of every category
    took to compute here (0 when none is stored yet: a new or small install computes while
    the reader waits)."""
    return uow.stored_reports.longest_compute_ms()


def request_report(uow_factory: UowFactory, policy: ReturnsPolicy, family: SalesWindow,
                   size_key, *, expected: int, run: Background | None = None,
                   now: datetime | None = None) -> ReportComputing:
    """Claim the family's report and compute it in the background, unless another read has
    claimed it already (then only say it is being computed)."""
    now = now or datetime.now(UTC)
    key = report_key(policy, family)
    if _claimed(uow_factory, key, now):
        (run or in_background)(lambda: _compute(uow_factory, policy, family, size_key))
        requested_at = now
    else:
        with uow_factory() as uow:
            found = uow.stored_reports.find(*key)
        requested_at = _aware(found["computed_at"]) if found is not None else now
    waited = (now - requested_at).total_seconds()
    return ReportComputing(family.since, family.until, requested_at,
                           max(1, math.ceil(expected / 1000 - waited)))


def _claimed(uow_factory: UowFactory, key: tuple, now: datetime) -> bool:
    """Whether this read claimed the report: the first to ask, or the first to ask again
    after a claim's computation died with its process."""
    try:
        with uow_factory() as uow:
            uow.stored_reports.claim(*key, computed_at=now)
            uow.commit()
        return True
    except Conflict:
        with uow_factory() as uow:
            ours = uow.stored_reports.take_over_claim(
                *key, claimed_before=now - timedelta(minutes=CLAIM_MINUTES), computed_at=now)
            uow.commit()
        return ours


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compute(uow_factory: UowFactory, policy: ReturnsPolicy, family: SalesWindow,
             size_key) -> None:
    try:
        compute_report(uow_factory, policy, family, size_key)
    except Conflict:  # stored by another process meanwhile: theirs stands
        pass
    except Exception:
        log.exception("returns report %s..%s could not be computed", family.since,
                      family.until)
        with uow_factory() as uow:  # the next read asks again
            uow.stored_reports.drop_claim(*report_key(policy, family))
            uow.commit()
