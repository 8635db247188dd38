"""What a planner may filter and sort the suggestions by: plain values the services build from a
request and the repository turns into SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# The columns of a suggestion list a planner may sort by (the comment is free text: not one).
SORTABLE = (
    "id", "run_id", "as_of", "status", "sku", "size", "category", "supplier", "location",
    "suggested_qty", "return_blind_qty", "saved_by_returns", "approved_qty", "previous_qty",
    "change", "case_pack", "unit_cost", "value", "version", "decided_by", "decided_at",
)


@dataclass(frozen=True)
class RunScope:
    """The suggestions a run stands for: its own, plus the decisions an earlier run of the
    same as-of date made and this run therefore left alone."""

    run_id: int
    as_of: date
    decided: tuple[str, ...]
    # Earlier runs of the same as-of date (usually none): named, so that a list of the run
    # reads its own rows by run, however many runs of other dates are kept.
    earlier: tuple[int, ...] = ()


@dataclass(frozen=True)
class SuggestionFilter:
    scope: RunScope | None  # None: explicit ids, whichever run they belong to
    statuses: tuple[str, ...] = ()
    category: str | None = None
    sku: str | None = None
    size: str | None = None
    location: str | None = None
    supplier: str | None = None
    min_quantity: int | None = None
    min_value: Decimal | None = None
    changed: bool | None = None
    min_change: int | None = None
    ids: tuple[int, ...] = ()
    search: str | None = None  # SKU or description starting with this, any case
