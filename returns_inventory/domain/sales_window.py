"""The sales the returns analytics look at."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date


@dataclass(frozen=True)
class SalesWindow:
    """Sales from `since` to `until` (both inclusive), optionally of one SKU or some categories
    (and, for the figures of one page of a report, of some items only)."""

    since: date
    until: date
    sku: str | None = None
    categories: tuple[str, ...] | None = None
    item_ids: tuple[int, ...] | None = None

    def of_items(self, item_ids) -> SalesWindow:
        return replace(self, item_ids=tuple(int(i) for i in item_ids))
