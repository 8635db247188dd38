"""The figures behind the quality scorecards: per item and month of sale, one GROUP BY each.

Like the returns analytics (whose joins and window these reuse), every figure is keyed by the
SALE: a unit counts in the month and window its sale falls in.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, cast, func, select

from ...domain.grading import UnitStatus
from ...domain.sales_window import SalesWindow
from ..claims_tables import vendor_claim_units, vendor_claims
from ..returns_tables import return_lines, return_units
from ..tables import items, sales_lines
from .analytics import SOLD_ITEM, AnalyticsRepository

ATTRIBUTES = (items.c.sku, items.c.category, items.c.supplier, items.c.factory,
              items.c.season, items.c.fabric)


class QualityRepository(AnalyticsRepository):
    def _month(self):
        if self.is_postgres:
            return func.to_char(sales_lines.c.sold_on, "YYYY-MM")
        return func.strftime("%Y-%m", sales_lines.c.sold_on)

    def sold(self, window: SalesWindow, *, by_month: bool = True) -> list[dict]:
        """Units sold per item (and month): item_id, the item's attributes, month, units."""
        month = [self._month().label("month")] if by_month else []
        query = (
            select(items.c.id.label("item_id"), *ATTRIBUTES, *month,
                   func.sum(sales_lines.c.quantity).label("units"))
            .join(items, items.c.id == sales_lines.c.item_id)
            .group_by(items.c.id, *ATTRIBUTES, *month)
        )
        return self._rows(self._scoped(query, window))

    def quality_returns(self, window: SalesWindow, reasons: Sequence[str], *,
                        by_month: bool = True) -> list[dict]:
        """Received units returned for the quality reasons, per item (and month of sale)."""
        month = [self._month().label("month")] if by_month else []
        query = (
            self._returned_units(SOLD_ITEM, *month, func.count().label("units"))
            .where(return_lines.c.reason.in_(list(reasons)))
            .group_by(SOLD_ITEM, *month)
        )
        return self._rows(self._scoped(query, window))

    def quality_cells(self, window: SalesWindow, reasons: Sequence[str],
                      groups: Sequence[str]) -> list[dict]:
        """Units sold and units back for the quality reasons per category and combination of
        `groups` (item master columns): one GROUP BY for each, rows per group rather than
        per item."""
        key = (*(items.c[g] for g in groups), items.c.category)
        sold = self._scoped(
            select(*key, func.sum(sales_lines.c.quantity).label("units"))
            .join(items, items.c.id == sales_lines.c.item_id).group_by(*key), window)
        back = self._scoped(
            self._returned_units(*key, func.count().label("units"))
            .where(return_lines.c.reason.in_(list(reasons))).group_by(*key), window)
        names = [*groups, "category"]
        returned = {tuple(r[n] for n in names): int(r["units"]) for r in self._rows(back)}
        return [{**r, "units": int(r["units"]),
                 "quality_returns": returned.get(tuple(r[n] for n in names), 0)}
                for r in self._rows(sold)]

    def graded_with_defects(self, window: SalesWindow) -> list[dict]:
        """Graded returned units per item, grade and ticked defects (a JSON list, as text)."""
        defects = cast(return_units.c.defects, String).label("defects")
        query = (
            self._returned_units(SOLD_ITEM, return_units.c.grade, defects,
                                 func.count().label("units"))
            .where(return_units.c.grade.is_not(None))
            .group_by(SOLD_ITEM, return_units.c.grade, defects)
        )
        return self._rows(self._scoped(query, window))

    def vendor_units(self, window: SalesWindow) -> list[dict]:
        """Units sent back to their supplier, per item and claim state: item_id, claim status
        (None: not in a claim yet), units, their value at cost, and what credited claims
        recovered of it (the credit shared by the units' values)."""
        share = vendor_claims.c.credited_value * vendor_claim_units.c.value / func.nullif(
            vendor_claims.c.value, 0)
        value = func.coalesce(vendor_claim_units.c.value, items.c.unit_cost)
        query = (
            self._returned_units(
                SOLD_ITEM, vendor_claims.c.status, func.count().label("units"),
                func.sum(value).label("value"), func.sum(share).label("credited"))
            .outerjoin(vendor_claim_units, vendor_claim_units.c.unit_id == return_units.c.id)
            .outerjoin(vendor_claims, vendor_claims.c.id == vendor_claim_units.c.claim_id)
            .where(return_units.c.status == UnitStatus.RETURNED_TO_VENDOR.value)
            .group_by(SOLD_ITEM, vendor_claims.c.status)
        )
        return self._rows(self._scoped(query, window))
