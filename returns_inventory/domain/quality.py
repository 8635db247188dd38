"""Quality back to the supply chain: which suppliers, factories, seasons or styles come back
broken more often than their category, and how sure we are.

A group (a supplier, say) sells in one or more categories. In each category it is compared
with the other groups of that category pooled, by the same one-sided Fisher exact test as the
SKU quality signal (fit_signals.compare_with_rest), and every comparison of one report forms
one family for the same Benjamini-Hochberg correction (fit_signals.benjamini_hochberg): a flag
means at most about 5% of the report's flags are expected to be false. Comparing within a
category matters: shoes come back for quality more than socks, and a supplier of shoes is
not worse for making shoes.
"""

from __future__ import annotations

import enum
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import FieldError, Refused, ValidationFailed
from .fit_report import against_rest
from .fit_signals import Comparison, benjamini_hochberg

UNKNOWN = "(unknown)"  # the group of items whose master data does not say
Z_95 = 1.959963984540054


class Dimension(enum.StrEnum):
    """What a scorecard groups items by: an item master column (style is the SKU)."""

    SUPPLIER = "supplier"
    FACTORY = "factory"
    STYLE = "style"
    SEASON = "season"
    FABRIC = "fabric"


@dataclass(frozen=True)
class Cell:
    """One group's sales in one category, and how many of them came back for quality."""

    group: str
    category: str
    sold: int
    quality_returns: int


@dataclass(frozen=True)
class CategoryTest:
    """A group against the rest of one category, after the report's correction."""

    group: str
    category: str
    comparison: Comparison

    @property
    def flagged(self) -> bool:
        return self.comparison.flagged


def wilson_interval(hits: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (95% by default); None when n is 0.

    Wilson rather than the normal approximation: with a few returns out of many sales the
    normal interval dips below zero, and it is far too narrow at small n.
    """
    if n <= 0:
        return None
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


def compare_with_category(cells: Iterable[Cell]) -> list[CategoryTest]:
    """Each group in each of its categories against the category's other groups pooled, all
    the report's comparisons corrected as one family (categories in name order). The tests
    are made on arrays, every category at once (fit_report.against_rest)."""
    cells = list(cells)
    categories = {c: i for i, c in enumerate(sorted({cell.category for cell in cells}))}
    cells.sort(key=lambda cell: categories[cell.category])  # stable: groups keep their order
    made = against_rest(
        np.arange(len(cells)), np.array([categories[c.category] for c in cells], np.int64),
        len(categories), np.array([c.sold for c in cells], np.int64),
        np.array([c.quality_returns for c in cells], np.int64), 0)
    tested = [Comparison(cells[i].group, "quality", int(h), int(n), int(rh), int(rn), float(p))
              for i, h, n, rh, rn, p in zip(made["owner"], made["hits"], made["sold"],
                                            made["rest_hits"], made["rest_sold"],
                                            made["p_value"], strict=True)]
    corrected = benjamini_hochberg(tested)
    return [CategoryTest(c.key, cells[int(i)].category, c)
            for i, c in zip(made["owner"], corrected, strict=True)]


def flagged_groups(tests: Sequence[CategoryTest]) -> dict[str, list[CategoryTest]]:
    """The groups with at least one flagged category, and those flagged tests."""
    out: dict[str, list[CategoryTest]] = defaultdict(list)
    for t in tests:
        if t.flagged:
            out[t.group].append(t)
    return dict(out)


def category_rate(tests: Sequence[CategoryTest]) -> float | None:
    """The quality-return rate the group would have at its categories' rates (the rest of
    each category, weighted by what the group sold there): the fair baseline for a mix."""
    sold = sum(t.comparison.sold for t in tests)
    if not sold:
        return None
    return sum(t.comparison.sold * t.comparison.rest_share for t in tests) / sold


def change(current: float | None, previous: float | None) -> float | None:
    """Percentage points from the previous period's rate to this one's."""
    if current is None or previous is None:
        return None
    return current - previous


class AlertRule(enum.StrEnum):
    """What approving a suggestion of a flagged style or supplier does."""

    MARK = "mark"  # shown on the suggestion; approving is as usual
    HOLD = "hold"  # approval refused while the flag stands (reject, or wait for it to clear)
    CAP = "cap"  # approval at most the return-blind quantity


RULE_WORDS = {
    AlertRule.MARK: "The alert is shown only; approving works as usual.",
    AlertRule.HOLD: "Approval is held while the alert stands; rejecting is still possible.",
    AlertRule.CAP: "While the alert stands, at most the return-blind quantity can be approved.",
}


class QualityHold(Refused):
    title = "Held for quality"


@dataclass(frozen=True)
class AlertPolicy:
    """config/forecasting.toml [quality_alerts]: the recent window and the rule."""

    window_days: int = 56
    rule: AlertRule = AlertRule.MARK

    @classmethod
    def from_config(cls, doc: dict) -> AlertPolicy:
        section = doc.get("quality_alerts", {})
        return cls(window_days=int(section.get("window_days", cls.window_days)),
                   rule=AlertRule(section.get("rule", cls.rule.value)))

    def check_approval(self, alerts: Sequence[dict], quantity: int,
                       return_blind_qty: int | None) -> None:
        """Refuse an approval the rule does not allow while the suggestion is flagged."""
        if not alerts or self.rule is AlertRule.MARK:
            return
        why = "; ".join(evidence_words(a) for a in alerts)
        if self.rule is AlertRule.HOLD:
            raise QualityHold(f"approval is held while {why}", rule="quality_hold",
                              quality_alert=list(alerts))
        if return_blind_qty is not None and quantity > return_blind_qty:
            raise ValidationFailed(
                f"at most the return-blind quantity {return_blind_qty} may be approved while "
                f"{why}", errors=[FieldError("quantity", f"at most {return_blind_qty}")])


def evidence_words(alert: dict) -> str:
    """One alert in a planner's words."""
    what = "style" if alert["by"] == Dimension.STYLE else "supplier"
    return (f"{what} {alert['group']} returns {100 * alert['share']:.1f}% for quality against "
            f"{100 * alert['rest_share']:.1f}% in {alert['category']} "
            f"(q = {alert['q_value']:.3g})")
