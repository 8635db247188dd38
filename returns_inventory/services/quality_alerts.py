"""Quality alerts on replenishment: a style, or a supplier in a category, returning for quality
significantly more than its category on recent sales is marked on its suggestions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from ..domain.quality import (
    UNKNOWN,
    CategoryTest,
    Cell,
    Dimension,
    compare_with_category,
    evidence_words,
)
from ..domain.sales_window import SalesWindow
from ..persistence.repositories.analytics import GROWING
from .policies import Policies
from .quality import quality_codes
from .report_cache import cached

COLUMN = {Dimension.STYLE: "sku", Dimension.SUPPLIER: "supplier"}


@dataclass(frozen=True)
class QualityAlerts:
    """The flags of the recent window: by SKU, and by (supplier, category)."""

    styles: dict[str, dict] = field(default_factory=dict)
    suppliers: dict[tuple[str, str], dict] = field(default_factory=dict)
    as_of: datetime | None = None  # when worked out, where a list keeps them for a while

    def of(self, row: dict) -> list[dict]:
        """The alerts on one suggestion (or order line): its style's, its supplier's."""
        found = []
        if row.get("sku") in self.styles:
            found.append(self.styles[row["sku"]])
        supplier = (row.get("supplier"), row.get("category"))
        if supplier in self.suppliers:
            found.append(self.suppliers[supplier])
        return found

    def words(self, sku: str, supplier: str | None, category: str | None) -> str:
        """The alerts on one line in a planner's words, `; ` between them ("" for none)."""
        style = self.styles.get(sku)
        kind = (self.suppliers.get((supplier, category))
                if supplier is not None and category is not None else None)
        if style is None and kind is None:
            return ""  # most lines: no list, no join
        return "; ".join(evidence_words(a) for a in (style, kind) if a is not None)

    def mark(self, rows: list[dict]) -> list[dict]:
        return [{**row, "quality_alert": self.of(row)} for row in rows]


def current_alerts(uow, policies: Policies, today: date) -> QualityAlerts:
    """The style and supplier flags on sales of the alert window up to today.

    Every page of suggestions asks; the flags change only when a sale, a received return or
    an item does (the window moves with the day, which is in the key), so they are computed
    once and kept until then (report_cache.py)."""
    window = SalesWindow(today - timedelta(days=policies.quality_alerts.window_days - 1), today)
    codes = tuple(quality_codes(policies.returns))
    return cached(uow.database, ("quality-alerts", window, codes),
                  uow.quality.change_stamp(GROWING), lambda: _alerts(uow, window, codes))


def _alerts(uow, window: SalesWindow, codes: tuple[str, ...]) -> QualityAlerts:
    rows = uow.quality.quality_cells(window, codes, list(COLUMN.values()))
    out: dict[Dimension, dict] = {}
    for dimension, column in COLUMN.items():
        tally: dict[tuple[str, str], list[int]] = {}
        for r in rows:
            # Items whose master data does not say (null or blank) are one group.
            figures = tally.setdefault((r[column] or UNKNOWN, r["category"]), [0, 0])
            figures[0] += r["units"]
            figures[1] += r["quality_returns"]
        cells = [Cell(group, category, sold, back)
                 for (group, category), (sold, back) in tally.items()]
        out[dimension] = {
            t.group if dimension is Dimension.STYLE else (t.group, t.category):
                _evidence(t, dimension, window)
            for t in compare_with_category(cells) if t.flagged
        }
    return QualityAlerts(styles=out[Dimension.STYLE], suppliers=out[Dimension.SUPPLIER])


def _evidence(t: CategoryTest, dimension: Dimension, window: SalesWindow) -> dict:
    c = t.comparison
    return {"by": dimension.value, "group": t.group, "category": t.category,
            "units_sold": c.sold, "quality_returns": c.hits, "share": round(c.share, 4),
            "rest_share": round(c.rest_share, 4), "q_value": c.q_value,
            "since": window.since.isoformat(), "until": window.until.isoformat()}
