"""Quality alerts on replenishment: a style, or a supplier in a category, returning for quality
significantly more than its category on recent sales is marked on its suggestions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from ..domain.quality import CategoryTest, Dimension, compare_with_category
from ..domain.sales_window import SalesWindow
from .policies import Policies
from .quality import quality_codes, tally_each


@dataclass(frozen=True)
class QualityAlerts:
    """The flags of the recent window: by SKU, and by (supplier, category)."""

    styles: dict[str, dict] = field(default_factory=dict)
    suppliers: dict[tuple[str, str], dict] = field(default_factory=dict)

    def of(self, row: dict) -> list[dict]:
        """The alerts on one suggestion (or order line): its style's, its supplier's."""
        found = []
        if row.get("sku") in self.styles:
            found.append(self.styles[row["sku"]])
        supplier = (row.get("supplier"), row.get("category"))
        if supplier in self.suppliers:
            found.append(self.suppliers[supplier])
        return found

    def mark(self, rows: list[dict]) -> list[dict]:
        return [{**row, "quality_alert": self.of(row)} for row in rows]


def current_alerts(uow, policies: Policies, today: date) -> QualityAlerts:
    """The style and supplier flags on sales of the alert window up to today."""
    window = SalesWindow(today - timedelta(days=policies.quality_alerts.window_days - 1), today)
    codes = quality_codes(policies.returns)
    out: dict[Dimension, dict] = {}
    kinds = [Dimension.STYLE, Dimension.SUPPLIER]
    for dimension, groups in tally_each(uow.quality, window, kinds, codes).items():
        cells = [cell for key, figures in groups.items() for cell in figures.cells(key)]
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
