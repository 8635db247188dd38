"""The suggestion chart: sales, forecast, returns flowing back and projected stock.

Drawn on the server as inline SVG (svg_chart.py) so the page needs no JS library and the chart
is text a test can read. `figure_svg` turns a matplotlib figure into the same kind of inline
SVG for the charts still drawn by it (quality, returns analytics); only matplotlib's object
API is used there (no pyplot): pyplot keeps global figures, not safe in a threaded worker.
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

from .svg_chart import Plot, chart

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
    """The whole chart as inline SVG: sales, forecast and returns above, stock below."""
    sales = Plot("Units per week", share=3)
    history = suggestion.get("history") or []
    sales.line([h["week"] for h in history], [h["units"] for h in history], colour=INK,
               width=1.4, step=True, label="Units sold per week")
    forecast = suggestion.get("forecast")
    if forecast and forecast["weeks"]:
        weeks = [w["week"] for w in forecast["weeks"]]
        level = round(100 * (forecast.get("interval_level") or 0.8))
        sales.band(weeks, [w["lower"] for w in forecast["weeks"]],
                   [w["upper"] for w in forecast["weeks"]], colour=ACCENT,
                   label=f"{level}% forecast interval")
        sales.line(weeks, [w["forecast"] for w in forecast["weeks"]], colour=ACCENT, width=2,
                   label=f"Forecast ({forecast['method']})")
    back = (suggestion.get("returns") or {}).get("expected_per_week") or []
    sales.bars([w["week"] for w in back], [w["units"] for w in back], colour=GOOD,
               label="Restockable returns expected back")
    stock = Plot("Units in stock", share=2, empty_note="No forecast for this suggestion")
    if projection is not None:
        _draw_stock(stock, projection)
    title = (f"Weekly sales, forecast and projected stock of {suggestion['sku']} size "
             f"{suggestion['size']}")
    return chart(title, _described(suggestion, projection), [sales, stock], height=540,
                 dom_id="suggestion-chart").svg()


def chart_rows(suggestion: dict, projection: Projection | None) -> list[dict]:
    """The chart's figures week by week, for the table beside it (screen readers, keyboard)."""
    rows: dict = {}

    def put(week, **figures):
        rows.setdefault(week, {"week": week}).update(figures)

    for h in suggestion.get("history") or []:
        put(h["week"], sold=h["units"])
    for w in (suggestion.get("forecast") or {}).get("weeks") or []:
        put(w["week"], forecast=w["forecast"], lower=w["lower"], upper=w["upper"])
    for w in (suggestion.get("returns") or {}).get("expected_per_week") or []:
        put(w["week"], back=w["units"])
    if projection is not None:
        for week, with_order, without in zip(projection.weeks, projection.with_order,
                                             projection.without_order, strict=True):
            put(week, with_order=with_order, without_order=without)
    return [rows[week] for week in sorted(rows)]


def _described(suggestion: dict, projection: Projection | None) -> str:
    history = suggestion.get("history") or []
    said = [f"{sum(h['units'] for h in history)} units sold over the {len(history)} weeks "
            "shown" if history else "No sales in the weeks shown"]
    forecast = suggestion.get("forecast")
    if forecast and forecast["weeks"]:
        total = sum(w["forecast"] for w in forecast["weeks"])
        said.append(f"{total:.0f} forecast over the next {len(forecast['weeks'])} weeks")
    if projection is not None:
        said.append(f"projected stock after {len(projection.weeks)} weeks "
                    f"{projection.with_order[-1]:.0f} with the order of "
                    f"{projection.order_qty}, {projection.without_order[-1]:.0f} without")
    return "; ".join(said) + ". The table below the chart lists every week."


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


def _draw_stock(plot: Plot, projection: Projection) -> None:
    if projection.arrival_week is not None:
        arrives = projection.weeks[projection.arrival_week]
        note = "order arrives" if projection.lead_weeks_known else "order (lead time unknown)"
        # Later orders are not drawn; the band shows how long this one has to last.
        plot.span(arrives, projection.weeks[projection.next_arrival_week], colour=GOOD,
                  label="Until the next order can arrive")
        plot.rule(arrives, note=note, colour=MUTED)
    plot.line(projection.weeks, projection.with_order, colour=ACCENT, width=2, dots=True,
              label=f"Projected stock with the order of {projection.order_qty}")
    plot.line(projection.weeks, projection.without_order, colour=BAD, width=1.6, dash="6 4",
              label="Projected stock without the order")


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) else None
