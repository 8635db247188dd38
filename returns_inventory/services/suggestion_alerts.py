"""Quality alerts as the planners' lists show them: computed at most every few minutes per
process, not on every page.

The alerts compare the window's sales and quality returns of every style and supplier with
their category's. At 100,000 items and 10 M sales lines that is seconds of database and CPU,
and it was paid by every page of the suggestions list, every suggestion and every export:
the pages grew with the catalogue and the history. The figures move by a few units an hour
and an alert a few minutes late changes no order, so each process keeps the last answer per
policies and day for FRESH_SECONDS. Below this, quality_alerts keeps its figures until a sale,
a received return or an item changes (report_cache.py); on a busy dock receipts change them
every few seconds, and this layer is what bounds how often a page pays for computing them.
Decisions (the hold and cap rules) do not read this: they compute the alerts afresh.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from .policies import Policies
from .quality_alerts import QualityAlerts, current_alerts

FRESH_SECONDS = 300.0


@dataclass
class _Kept:
    owner: weakref.ref  # the policies they were computed under (one app's)
    today: date
    alerts: QualityAlerts
    at: float


_kept: dict[int, _Kept] = {}
_lock = threading.Lock()


def listed_alerts(uow: Any, policies: Policies, today: date) -> QualityAlerts:
    """The alerts to mark a list's rows with: the kept ones while fresh, else computed now
    (in the caller's unit of work) and kept; `as_of` says when they were computed, which a
    page shows, since a mark may be up to FRESH_SECONDS late."""
    key = id(policies)
    with _lock:
        kept = _kept.get(key)
    if (kept is not None and kept.owner() is policies and kept.today == today
            and time.monotonic() - kept.at < FRESH_SECONDS):
        return kept.alerts
    # Stamped on a copy (the figures below are shared): a list says how fresh its marks are.
    alerts = replace(current_alerts(uow, policies, today), as_of=datetime.now(UTC))
    with _lock:
        # Forget what belonged to policies no longer alive (an app that went away).
        for gone in [k for k, v in _kept.items() if v.owner() is None]:
            del _kept[gone]
        _kept[key] = _Kept(weakref.ref(policies), today, alerts, time.monotonic())
    return alerts


def forget() -> None:
    """Drop every kept answer (tests that change the figures under one app)."""
    with _lock:
        _kept.clear()
