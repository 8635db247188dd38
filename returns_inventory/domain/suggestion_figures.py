"""The figures a planner decides a suggestion on, read from the order's terms, and the words
for an order that returns made larger. No framework here."""

from __future__ import annotations

from dataclasses import dataclass

# Terms that are shares of 1: shown as percentages, never as 0.9 or 1.
SHARE_TERMS = ("service_level", "cycle_level")


@dataclass(frozen=True)
class DecisionFigures:
    on_hand: float | None
    on_order: float | None
    returns_back: float | None  # restockable units expected back over lead time plus review
    forecast: float | None  # gross demand over lead time plus review
    cover_before: float | None  # weeks the stock and open orders last, net of returns
    cover_after: float | None  # the same with the order
    lead_time_weeks: float | None


# The terms decision_figures reads (an export of the table reads only these of each row).
FIGURE_TERMS = ("protection_weeks", "gross_demand", "expected_returns", "inventory_position",
                "on_hand", "on_order")


def decision_figures(terms: dict, order_qty: int, lead_time_days: int | None) -> DecisionFigures:
    """Weeks of cover divide what we have by the demand left once returns are resold, per
    week of the protection window; with no net demand there is no cover figure (never ends)."""
    weeks = _number(terms.get("protection_weeks"))
    gross = _number(terms.get("gross_demand"))
    back = _number(terms.get("expected_returns"))
    position = _number(terms.get("inventory_position"))
    before = after = None
    if weeks and gross is not None and position is not None:
        net_per_week = (gross - (back or 0.0)) / weeks
        if net_per_week > 0:
            before = max(position, 0.0) / net_per_week
            after = max(position + order_qty, 0.0) / net_per_week
    return DecisionFigures(
        on_hand=_number(terms.get("on_hand")), on_order=_number(terms.get("on_order")),
        returns_back=back, forecast=gross, cover_before=before, cover_after=after,
        lead_time_weeks=None if lead_time_days is None else lead_time_days / 7)


def why_more_than_blind(terms: dict, suggested: int, blind: int) -> str | None:
    """Why the return-aware order is larger than the order that ignores returns, in words;
    None when it is not larger."""
    if suggested <= blind:
        return None
    reasons = []
    ss, blind_ss = _number(terms.get("safety_stock")), _number(terms.get("blind_safety_stock"))
    back = _number(terms.get("expected_returns")) or 0.0
    if ss is not None and blind_ss is not None and ss - blind_ss > back:
        reasons.append(
            f"the returns expected back ({_units(back)}) are uncertain, and that spread raises "
            f"the safety stock from {_units(blind_ss)} to {_units(ss)}, by more than the "
            "returns save")
    if terms.get("service_target") == "fill" and back > 0:
        reasons.append(
            "returns expected back arrive over the weeks while stock could run out before "
            "they do, so the fill-rate target still needs units on the shelf first")
    raw, position = _number(terms.get("raw_order")), _number(terms.get("inventory_position"))
    blind_up_to = _number(terms.get("blind_order_up_to"))
    if raw is not None and position is not None and blind_up_to is not None:
        blind_raw = max(blind_up_to - position, 0.0)
        if suggested - blind > max(raw, 0.0) - blind_raw + 1e-6:
            reasons.append(
                f"rounding to whole case packs or the minimum order turns "
                f"{_units(max(raw, 0.0))} needed into {suggested}, against {blind} for "
                f"{_units(blind_raw)} when returns are ignored")
    if not reasons:
        reasons.append("the order-up-to level with returns works out higher than without "
                       "them; see the terms below")
    return (f"Ordering {suggested - blind} more than if returns were ignored: "
            + "; and ".join(reasons) + ".")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _units(value: float) -> str:
    # Adding 0.0 turns a rounded -0.0 into 0.0: never "-0 units".
    return f"{round(value, 1) + 0.0:g} units"
