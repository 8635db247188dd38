"""Charts over time as inline SVG, drawn by a template (planner/_svg_chart.html) from the
geometry worked out here: panels stacked over one time axis, each with lines, bands, bars and
shaded spans, its own value axis and legend.

A few series of at most a few hundred points need a page of arithmetic, not a plotting
library: matplotlib took ~200 ms a chart (the same for every suggestion, load or not), this
takes about a millisecond. The output keeps to SVG presentation attributes (no `style`), which
the pages' Content-Security-Policy allows, and its text stays text (legend, axes, title).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import render_template
from markupsafe import Markup

WIDTH = 1000  # viewBox units; the page scales the chart to its column
LEFT, RIGHT, BOTTOM = 64, 12, 30  # room for the value labels, a margin, the date labels
LEGEND_ROW, GAP = 22, 16
EPOCH = date(1970, 1, 1).toordinal()
# Steps of the time axis in days, the finest that leaves at most MAX_TICKS labels wins.
STEPS = (1 / 1440, 5 / 1440, 15 / 1440, 1 / 24, 3 / 24, 6 / 24, 12 / 24, 1, 2, 7, 14)
MONTHS = (1, 2, 3, 6, 12)
MAX_TICKS = 9


def _days(moment: date | datetime) -> float:
    """A date or a moment as days on one scale (a date is its midnight)."""
    if isinstance(moment, datetime):
        return EPOCH + moment.timestamp() / 86400
    return float(moment.toordinal())


@dataclass
class Mark:
    """One thing drawn in a panel, in viewBox units."""

    kind: str  # line, area, boxes, dots, rule
    colour: str
    d: str = ""  # path data of a line or an area
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    dots: list[tuple[float, float]] = field(default_factory=list)
    width: float = 1.5
    dash: str | None = None
    opacity: float = 1.0
    note: str = ""
    at: float = 0.0  # where a rule stands


@dataclass
class Plot:
    """A panel described in data terms: what to draw, then `Chart` places it."""

    label: str  # the value axis: "Units per week"
    share: float = 1.0  # of the height the panels share
    empty_note: str = ""  # said in the middle when there is nothing to draw
    series: list[tuple] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # label, colour, swatch

    def line(self, xs, ys, *, colour: str, label: str, width: float = 1.5,
             dash: str | None = None, step: bool = False, dots: bool = False) -> None:
        points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        if points:
            self.series.append(("line", points, colour, width, dash, step, dots))
            # One point draws no line: its key is the dot it is drawn as.
            lone = dots and len(points) == 1
            self.legend.append((label, colour, "dash" if dash else "line" if width and not lone
                                else "dot"))

    def band(self, xs, lows, highs, *, colour: str, label: str, opacity: float = 0.18) -> None:
        if xs:
            self.series.append(("band", list(zip(xs, lows, highs, strict=True)), colour,
                                opacity))
            self.legend.append((label, colour, "box"))

    def bars(self, xs, ys, *, colour: str, label: str, days: float = 4,
             opacity: float = 0.8) -> None:
        if xs:
            self.series.append(("bars", list(zip(xs, ys, strict=True)), colour, days, opacity))
            self.legend.append((label, colour, "box"))

    def span(self, start, end, *, colour: str, label: str, opacity: float = 0.12) -> None:
        self.series.append(("span", (start, end), colour, opacity))
        self.legend.append((label, colour, "box"))

    def rule(self, at, *, note: str, colour: str) -> None:
        self.series.append(("rule", at, colour, note))

    def values(self) -> list[float]:
        out: list[float] = []
        for kind, data, *_ in self.series:
            if kind == "line":
                out += [y for _, y in data]
            elif kind == "band":
                out += [v for _, lo, hi in data for v in (lo, hi)]
            elif kind == "bars":
                out += [y for _, y in data]
        return out

    def times(self) -> list[float]:
        out: list[float] = []
        for kind, data, *_ in self.series:
            if kind in ("line", "band", "bars"):
                out += [_days(p[0]) for p in data]
            elif kind == "span":
                out += [_days(data[0]), _days(data[1])]
        return out


@dataclass
class Panel:
    top: float  # of the plotting area, below the legend
    height: float
    label: str
    ticks: list[tuple[float, str]]  # (y, text)
    marks: list[Mark]
    legend: list[tuple[float, float, str, str, str]]  # x, y, label, colour, swatch
    empty_note: str = ""


@dataclass
class Chart:
    title: str
    description: str
    height: float
    panels: list[Panel]
    x_ticks: list[tuple[float, str]]
    dom_id: str
    width: float = WIDTH
    left: float = LEFT
    right: float = WIDTH - RIGHT

    def svg(self) -> Markup:
        return Markup(render_template("planner/_svg_chart.html", chart=self))


def chart(title: str, description: str, plots: list[Plot], *, height: float,
          dom_id: str, width: float = WIDTH) -> Chart:
    """Stack the plots over one time axis spanning every point any of them draws.

    `width` is in viewBox units, the text in 12 of them: a chart shown narrow (a tablet's
    column) is drawn narrower so its text stays readable once scaled to the column."""
    times = [t for p in plots for t in p.times()] or [0.0, 1.0]
    start, end = min(times), max(times)
    # A single point (one run): a day around it, and one tick saying when.
    lone = _moment(start) if len(times) == 1 else None
    # A margin either side; runs a few seconds apart get a few minutes, not a day.
    pad = 0.5 if lone else max((end - start) * 0.02, 2 / 1440)
    start, end = start - pad, end + pad

    def x(moment) -> float:
        return LEFT + (_days(moment) - start) / (end - start) * (width - LEFT - RIGHT)

    legends = [_legend(p.legend, width) for p in plots]
    room = height - BOTTOM - sum(LEGEND_ROW * rows for _, rows in legends) - GAP * len(plots)
    shares = sum(p.share for p in plots)
    panels, top = [], 0.0
    for plot, (entries, rows) in zip(plots, legends, strict=True):
        legend_top = top + GAP
        top = legend_top + LEGEND_ROW * rows
        size = room * plot.share / shares
        panels.append(_panel(plot, top, size, x,
                             [(lx, legend_top + 16 + ly, *e) for lx, ly, *e in entries], width))
        top += size
    ticks = ([(x(lone), f"{lone:%d %b %Y %H:%M}")] if lone
             else _time_ticks(start, end, x, width))
    return Chart(title, description, height, panels, ticks, dom_id, width=width,
                 right=width - RIGHT)


def _panel(plot: Plot, top: float, height: float, x, legend, width: float = WIDTH) -> Panel:
    low, high, step = _value_range(plot.values())

    def y(value: float) -> float:
        return top + height - (value - low) / (high - low) * height

    ticks = [(y(v), _number(v, step)) for v in _steps(low, high, step)]
    marks = []
    for kind, data, colour, *rest in plot.series:
        if kind == "line":
            stroke, dash, step_line, dots = rest
            points = [(x(t), y(v)) for t, v in data]
            if step_line:  # each week's level held until the next
                points = [q for a, b in zip(points, [*points[1:], points[-1]], strict=True)
                          for q in (a, (b[0], a[1]))][:-1]
            marks.append(Mark("line", colour, d=_path(points) if stroke and len(points) > 1
                              else "", width=stroke,
                              dash=dash, dots=points if dots else [],
                              # A lone point has no line to be read against: it says its value.
                              note=_number(data[0][1], step) if dots and len(points) == 1
                              else ""))
        elif kind == "band":
            upper = [(x(t), y(hi)) for t, _, hi in data]
            lower = [(x(t), y(lo)) for t, lo, _ in reversed(data)]
            marks.append(Mark("area", colour, d=_path(upper + lower) + " Z", opacity=rest[0]))
        elif kind == "bars":
            days, opacity = rest
            half = (x(data[0][0] + timedelta(days=days)) - x(data[0][0])) / 2
            marks.append(Mark("boxes", colour, opacity=opacity, boxes=[
                (x(t) - half, min(y(v), y(0)), 2 * half, abs(y(0) - y(v))) for t, v in data]))
        elif kind == "span":
            left, right = x(data[0]), x(data[1])
            marks.append(Mark("boxes", colour, opacity=rest[0],
                              boxes=[(left, top, max(right - left, 1.0), height)]))
        elif kind == "rule":
            marks.append(Mark("rule", colour, d=f"M{x(data):.1f},{top:.1f}V{top + height:.1f}",
                              dash="2 3", note=rest[0], at=x(data)))
    if low < 0 < high:  # where stock runs out
        marks.append(Mark("line", "#5b6570", d=f"M{LEFT},{y(0):.1f}H{width - RIGHT}",
                          width=0.8))
    return Panel(top, height, plot.label, ticks, marks, legend,
                 "" if plot.series else plot.empty_note)


def _legend(entries: list[tuple[str, str, str]], width: float = WIDTH) -> tuple[list, int]:
    """Entries placed left to right, wrapping: (x, row offset, label, colour, swatch)."""
    placed, x, row = [], LEFT, 0
    for label, colour, swatch in entries:
        room = 30 + 6.6 * len(label)
        if x + room > width - RIGHT and x > LEFT:
            x, row = LEFT, row + 1
        placed.append((x, row * LEGEND_ROW, label, colour, swatch))
        x += room + 18
    return placed, (row + 1 if entries else 0)


def _value_range(values: list[float]) -> tuple[float, float, float]:
    """A range from 0 (or below, when values are) to a round number past the highest."""
    low, high = min([0.0, *values]), max([0.0, *values])
    if high - low < 1e-9:
        high = low + 1
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _steps(low: float, high: float, step: float) -> list[float]:
    return [low + n * step for n in range(round((high - low) / step) + 1)]


def _number(value: float, step: float) -> str:
    return f"{value:,.0f}" if step >= 1 else f"{value:,.{max(0, -math.floor(math.log10(step)))}f}"


def _time_ticks(start: float, end: float, x, width: float = WIDTH) -> list[tuple[float, str]]:
    span = end - start
    # A narrower chart has room for fewer labels.
    most = min(MAX_TICKS, max(3, round(MAX_TICKS * width / WIDTH)))
    step = next((s for s in STEPS if span / s <= most), None)
    if step is None:
        months = next((m for m in MONTHS if span / (30.44 * m) <= most), 12)
        return [(x(d), f"{d:%b %Y}") for d in _month_starts(start, end, months)
                if LEFT + 30 <= x(d) <= width - RIGHT - 35]
    fmt = "%d %b %H:%M" if step < 1 else "%d %b %y"
    first = math.ceil(start / step) * step
    moments = [first + n * step for n in range(int((end - first) / step) + 1)]
    ticks = [(x(_moment(m)), f"{_moment(m):{fmt}}") for m in moments]
    # A label centred on a tick at either edge would be cut off.
    return [(at, text) for at, text in ticks if LEFT + 30 <= at <= width - RIGHT - 45]


def _moment(days: float) -> datetime:
    # To the second: a tick at n * step days lands a hair before the minute it stands for.
    return datetime(1970, 1, 1) + timedelta(seconds=round((days - EPOCH) * 86400))


def _month_starts(start: float, end: float, every: int) -> list[date]:
    first = date.fromordinal(math.ceil(start))
    year, month = first.year, first.month + (first.day > 1)
    out = []
    while True:
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        day = date(year, month, 1)
        if day.toordinal() > end:
            return out
        if (month - 1) % every == 0:
            out.append(day)
        month += 1


def _path(points: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in points)
