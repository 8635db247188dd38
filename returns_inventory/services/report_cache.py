"""Report-wide figures kept between requests until the data they were read from changes.

A returns report over 100,000 SKU × sizes reads millions of sales lines; paging through it,
or opening it again, must not read them again. Each entry is kept with the change stamp of
the tables it was read from (AnalyticsRepository.change_stamp, a few index lookups) and used
only while the stamp is the same, so a new sale, return or item change is seen by the next
request. Entries belong to one database (a test's rolled-back database is another) and the
most recently used few are kept per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any
from weakref import WeakKeyDictionary

KEPT = 4  # per database and process: some 25 MB each for a report of 100,000 items

_LOCK = threading.Lock()
_ENTRIES: WeakKeyDictionary[Any, OrderedDict[Hashable, tuple[Hashable, Any]]] = (
    WeakKeyDictionary())


def cached(database: Any, key: Hashable, stamp: Hashable, build: Callable[[], Any],
           update: Callable[[Any, Any], Any] | None = None) -> Any:
    """The value kept for `key` if it was built at `stamp`; else `update(value, its stamp)`
    when that can bring the kept value up to `stamp` (None when it cannot); else `build()`.
    Kept at `stamp` either way. Two requests that miss together both build: correct, and
    rarer than a lock held across a build would be costly."""
    with _LOCK:
        entries = _ENTRIES.setdefault(database, OrderedDict())
        found = entries.get(key)
        if found is not None and found[0] == stamp:
            entries.move_to_end(key)
            return found[1]
    value = None
    if found is not None and update is not None:
        value = update(found[1], found[0])
    if value is None:
        value = build()
    with _LOCK:
        entries[key] = (stamp, value)
        entries.move_to_end(key)
        while len(entries) > KEPT:
            entries.popitem(last=False)
    return value


def forget() -> None:
    """Drop every kept value: what the first read after a change costs (benchmarks)."""
    with _LOCK:
        _ENTRIES.clear()
