"""The suggestion chart: sales, forecast, returns flowing back and projected stock, by matplotlib.

Drawn on the server as SVG so the page needs no JS library and the chart is text a test can
read. Only matplotlib's object API is used (no pyplot): pyplot keeps global figures, which is
not safe in a threaded web worker.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

# rc_context changes matplotlib's process-wide settings; gunicorn threads draw one at a time.
_RC_LOCK = threading.Lock()
INK, MUTED, ACCENT, GOOD, BAD = "#1d232a", "#5b6570", "#1558b0", "#1e7b34", "#b3261e"


@dataclass(frozen=True)
class Projection:
    """Stock expected at the end of each forecast week, with and without the order."""

    weeks: list[date]
    without_order: list[float]
    with_order: list[float]
    arrival_week: int | None  # index into weeks; None when the order is nothing
    order_qty: int
    lead_weeks_known: bool
    # Index of the week the next order could arrive: this order need only last until then.
    next_arrival_week: int | None = None


def project_stock(suggestion: dict, review_weeks: int) -> Projection | None:
    """Week by week from the inventory position: minus the forecast, plus restockable returns,
    plus the order once the lead time has passed (the same terms the suggestion used)."""
    forecast, returns = suggestion.get("forecast"), suggestion.get("returns")
    if not forecast or not forecast["weeks"]:
        return None
    terms = {t["term"]: t["value"] for t in suggestion["terms"]}
    level = _number(terms.get("inventory_position"))
    if level is None:
        level = sum(_number(terms.get(k)) or 0.0 for k in ("on_hand", "on_order")) - (
            _number(terms.get("reserved")) or 0.0)
    weeks = [w["week"] for w in forecast["weeks"]]
    back = [w["units"] for w in (returns or {}).get("expected_per_week", [])]
    order = suggestion["approved_qty"] if suggestion["approved_qty"] is not None else (
        suggestion["suggested_qty"])
    # Protection = lead time + review period, so the order lands after protection - review.
    protection = _number(terms.get("protection_weeks"))
    lead = round(protection) - review_weeks if protection is not None else 0
    arrival = min(max(lead, 0), len(weeks) - 1) if order else None
    without, with_order = [], []
    for h, week in enumerate(forecast["weeks"]):
        level += (back[h] if h < len(back) else 0.0) - week["forecast"]
        without.append(round(level, 2))
        with_order.append(round(level + (order if arrival is not None and h >= arrival
                                         else 0), 2))
    following = None if arrival is None else min(arrival + review_weeks, len(weeks) - 1)
    return Projection(weeks, without, with_order, arrival, order or 0,
                      lead_weeks_known=protection is not None, next_arrival_week=following)


def suggestion_chart(suggestion: dict, projection: Projection | None) -> Markup:
    """The whole chart as inline SVG markup (matplotlib escapes the text it writes)."""
    # Imported here: matplotlib takes a moment to load and only the chart pages draw.
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    # Fixed margins, not layout="constrained": the constrained layout measured every label
    # twice and was half of the page's time, the same for every suggestion.
    figure = Figure(figsize=(10, 5.4))
    figure.subplots_adjust(left=0.07, right=0.985, top=0.97, bottom=0.07, hspace=0.08)
    sales_ax, stock_ax = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    _draw_sales(sales_ax, suggestion)
    if projection is not None:
        _draw_stock(stock_ax, projection)
    else:
        stock_ax.text(0.5, 0.5, "No forecast for this suggestion", ha="center",
                      transform=stock_ax.transAxes, color=MUTED)
    stock_ax.xaxis.set_major_formatter(DateFormatter("%d %b %y"))
    for ax in (sales_ax, stock_ax):
        ax.grid(axis="y", color="#e3e7eb")
        ax.spines[["top", "right"]].set_visible(False)
        ax.legend(loc="upper left", fontsize=9, frameon=False, ncols=2)
    title = (f"Weekly sales, forecast and projected stock of {suggestion['sku']} size "
             f"{suggestion['size']}")
    return figure_svg(figure, title)


def figure_svg(figure, title: str) -> Markup:
    """A matplotlib figure as inline SVG the page's CSP allows, labelled for screen readers."""
    import matplotlib

    out = io.StringIO()
    # Text stays text (smaller, selectable); a fixed salt keeps the output the same each time.
    with _RC_LOCK, matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "planner-chart"}
    ):
        figure.savefig(out, format="svg")
    svg = out.getvalue()
    svg = svg[svg.index("<svg"):]  # inline in HTML: no XML prolog or DOCTYPE
    svg = _without_inline_styles(svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(title)!s}" ', 1)
    return Markup(svg)


# matplotlib writes `style="fill: #fff; stroke: ..."` and a <style> element; the page's
# Content-Security-Policy allows neither inline. Every property it writes is also an SVG
# presentation attribute, so the same drawing is written as attributes instead.
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
_STYLE_ELEMENT = re.compile(r"<style[^>]*>\s*\*\s*\{([^}]*)\}\s*</style>\s*")


def _as_attributes(declarations: str) -> str:
    pairs = (d.split(":", 1) for d in declarations.split(";") if ":" in d)
    return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)


def _without_inline_styles(svg: str) -> str:
    root = _STYLE_ELEMENT.search(svg)
    svg = _STYLE_ELEMENT.sub("", svg)
    svg = _STYLE_ATTRIBUTE.sub(lambda m: _as_attributes(m.group(1)), svg)
    if root:  # `* {...}`: set once on the root, which every element inherits from
        svg = svg.replace("<svg ", "<svg" + _as_attributes(root.group(1)) + " ", 1)
    return svg


def _draw_sales(ax, suggestion: dict) -> None:
    history = suggestion.get("history") or []
    if history:
        ax.plot([h["week"] for h in history], [h["units"] for h in history], color=INK,
                linewidth=1.4, drawstyle="steps-post", label="Units sold per week")
    forecast = suggestion.get("forecast")
    if forecast and forecast["weeks"]:
        weeks = [w["week"] for w in forecast["weeks"]]
        level = round(100 * (forecast.get("interval_level") or 0.8))
        ax.fill_between(weeks, [w["lower"] for w in forecast["weeks"]],
                        [w["upper"] for w in forecast["weeks"]], color=ACCENT, alpha=0.18,
                        linewidth=0, label=f"{level}% forecast interval")
        ax.plot(weeks, [w["forecast"] for w in forecast["weeks"]], color=ACCENT, linewidth=2,
                label=f"Forecast ({forecast['method']})")
    returns = suggestion.get("returns")
    if returns and returns["expected_per_week"]:
        ax.bar([w["week"] for w in returns["expected_per_week"]],
               [w["units"] for w in returns["expected_per_week"]], width=4, color=GOOD,
               alpha=0.75, label="Restockable returns expected back")
    ax.set_ylabel("Units per week")
    ax.set_ylim(bottom=0)


def _draw_stock(ax, projection: Projection) -> None:
    ax.plot(projection.weeks, projection.with_order, color=ACCENT, linewidth=2, marker="o",
            markersize=3, label=f"Projected stock with the order of {projection.order_qty}")
    ax.plot(projection.weeks, projection.without_order, color=BAD, linewidth=1.6,
            linestyle="--", label="Projected stock without the order")
    ax.axhline(0, color=MUTED, linewidth=0.8)
    if projection.arrival_week is not None:
        arrives = projection.weeks[projection.arrival_week]
        note = "order arrives" if projection.lead_weeks_known else "order (lead time unknown)"
        # Later orders are not drawn; the band shows how long this one has to last.
        ax.axvspan(arrives, projection.weeks[projection.next_arrival_week], color=GOOD,
                   alpha=0.12, linewidth=0, label="Until the next order can arrive")
        ax.axvline(arrives, color=MUTED, linewidth=0.8, linestyle=":")
        ax.annotate(note, (arrives, 0), xytext=(4, 4), textcoords="offset points",
                    fontsize=8, color=MUTED)
    ax.set_ylabel("Units in stock")


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) else None
