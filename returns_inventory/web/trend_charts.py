"""Charts of how things go over time: one SKU's return rate and reasons by week (matplotlib
object API, inline SVG without inline styles), and how long forecast runs took (svg_chart.py,
as the suggestion chart: the runs page drew 200 ms of matplotlib on every load)."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict

from markupsafe import Markup

from .planner_charts import _RC_LOCK, ACCENT, BAD, _without_inline_styles
from .svg_chart import Plot, chart

# Reasons in a steady order of colours, so a reason keeps its colour from week to week.
PALETTE = ("#1558b0", "#b3261e", "#1e7b34", "#8a5a00", "#6b3fa0", "#00747a", "#5b6570",
           "#c2185b")
KEPT_CHARTS = 32  # SKU charts kept per process, each some 60 kB of SVG
_DRAWN: OrderedDict[tuple, Markup] = OrderedDict()
_DRAWN_LOCK = threading.Lock()


def sku_returns_chart(sku: str, weeks: list[dict], labels: dict[str, str]) -> Markup:
    """Top: units sold per week of sale and the share that came back; bottom: the reasons,
    stacked, as shares of the units sold that week.

    The same figures draw the same SVG (its ids are salted by a constant), and drawing it is
    most of what the returns page costs (some 200 ms of matplotlib), so the last few charts
    are kept per process by what they show; new figures draw a new one."""
    key = (sku, tuple((w["week"], w["units_sold"], w["return_rate"],
                       tuple(sorted(w["reasons"].items()))) for w in weeks),
           tuple(sorted(labels.items())))
    with _DRAWN_LOCK:
        if key in _DRAWN:
            _DRAWN.move_to_end(key)
            return _DRAWN[key]
    chart = _draw_sku_returns(sku, weeks, labels)
    with _DRAWN_LOCK:
        _DRAWN[key] = chart
        while len(_DRAWN) > KEPT_CHARTS:
            _DRAWN.popitem(last=False)
    return chart


def _draw_sku_returns(sku: str, weeks: list[dict], labels: dict[str, str]) -> Markup:
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 5.2), layout="constrained")
    rate_ax, mix_ax = figure.subplots(2, 1, sharex=True, height_ratios=[1, 1])
    days = [w["week"] for w in weeks]
    rate_ax.bar(days, [w["units_sold"] for w in weeks], width=5, color="#d5dbe1",
                label="Units sold that week")
    rate_ax.set_ylabel("Units sold")
    share_ax = rate_ax.twinx()
    share_ax.plot(days, [None if w["return_rate"] is None else 100 * w["return_rate"]
                         for w in weeks], color=BAD, linewidth=2, marker="o", markersize=3,
                  label="Return rate (%)")
    share_ax.set_ylabel("Returned %")
    share_ax.set_ylim(bottom=0)
    codes = sorted({c for w in weeks for c in w["reasons"]})
    bottom = [0.0] * len(weeks)
    for n, code in enumerate(codes):
        shares = [100 * w["reasons"].get(code, 0) / w["units_sold"] if w["units_sold"] else 0
                  for w in weeks]
        mix_ax.bar(days, shares, width=5, bottom=bottom, color=PALETTE[n % len(PALETTE)],
                   label=labels.get(code, code))
        bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
    mix_ax.set_ylabel("Returned % by reason")
    mix_ax.xaxis.set_major_formatter(DateFormatter("%d %b %y"))
    handles = rate_ax.get_legend_handles_labels()
    more = share_ax.get_legend_handles_labels()
    rate_ax.legend(handles[0] + more[0], handles[1] + more[1], loc="upper left", fontsize=9,
                   frameon=False, ncols=2)
    if codes:
        mix_ax.legend(loc="upper left", fontsize=8, frameon=False, ncols=4)
    for ax in (rate_ax, mix_ax):
        ax.grid(axis="y", color="#e3e7eb")
        ax.spines[["top"]].set_visible(False)
    return _svg(figure, f"Return rate and reasons by week of sale for {sku}")


def run_durations_chart(runs: list[dict]) -> Markup | None:
    """Minutes each finished run took, by when it started; failures in red. None when no run
    has finished yet."""
    done = run_durations(runs)
    if not done:
        return None
    # Minutes for real nightly runs; seconds where every run took under two minutes.
    unit, per = ("Minutes", 60) if max(r["seconds"] for r in done) >= 120 else ("Seconds", 1)
    plot = Plot(unit)
    for status, colour, label in (("succeeded", ACCENT, "Succeeded"),
                                  ("failed", BAD, "Failed")):
        mine = [r for r in done if r["status"] == status]
        plot.line([r["started_at"] for r in mine], [r["seconds"] / per for r in mine],
                  colour=colour, dots=True, label=label,
                  width=1.4 if status == "succeeded" else 0)
    longest = max(done, key=lambda r: r["seconds"])
    if len(done) == 1:
        said = (f"One finished run so far: run {longest['id']}, started "
                f"{longest['started_at']:%d %b %Y %H:%M}, {longest['status']} after "
                f"{longest['seconds'] / per:.1f} {unit.lower()}. Each later run adds a point.")
    else:
        said = (f"{len(done)} finished runs from {done[0]['started_at']:%d %b %Y} to "
                f"{done[-1]['started_at']:%d %b %Y}; "
                f"{sum(r['status'] == 'failed' for r in done)} failed; the longest, run "
                f"{longest['id']}, took {longest['seconds'] / per:.1f} {unit.lower()}. The "
                "table below the chart lists every run.")
    # Drawn 640 wide (the page caps it at 800 px): on a 768 px tablet its text stays some
    # 12 px high; at the suggestion chart's 1000 it shrank to 8.
    return chart("How long forecast runs took, by when they started", said, [plot],
                 height=250, dom_id="run-durations-chart", width=640).svg()


def run_durations(runs: list[dict]) -> list[dict]:
    """The finished runs in the order they started, with how long each took (the chart's
    figures, also listed beside it)."""
    done = [r for r in runs if r.get("finished_at") and r.get("started_at")]
    return sorted(({"id": r["id"], "status": r["status"], "started_at": r["started_at"],
                    "seconds": (r["finished_at"] - r["started_at"]).total_seconds()}
                   for r in done), key=lambda r: r["started_at"])


def _svg(figure, title: str) -> Markup:
    import matplotlib

    out = io.StringIO()
    with _RC_LOCK, matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "trend"}):
        figure.savefig(out, format="svg")
    svg = out.getvalue()
    svg = _without_inline_styles(svg[svg.index("<svg"):])
    return Markup(svg.replace(
        "<svg ", f'<svg role="img" aria-label="{Markup.escape(title)}" ', 1))
