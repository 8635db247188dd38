"""The sales the returns analytics look at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SalesWindow:
    """Sales from `since` to `until` (both inclusive), optionally of one SKU or some categories."""

    since: date
    until: date
    sku: str | None = None
    categories: tuple[str, ...] | None = None
