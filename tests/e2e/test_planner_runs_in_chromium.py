"""The forecast runs page on a tablet (768 px wide): its chart of how long runs took reads
well with however many runs there are, one included."""

from __future__ import annotations

import time
from datetime import date
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import page_for_new_user, screenshot_dir

PASSWORD = "runs-on-a-tablet-password"
TABLET = {"width": 768, "height": 1024}

pytestmark = pytest.mark.browser


def _a_finished_run(server) -> dict:
    """A run asked for over the API and followed to its end (on an empty shop it fails for
    want of a warehouse: a finished run all the same, drawn in red)."""
    started = server.post("/api/v1/forecast-runs", json={"as_of": date.today().isoformat()})
    assert started.status_code == 202, started.text
    run, deadline = started.json(), time.monotonic() + 300
    while run["status"] in ("requested", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        run = server.get(urlsplit(started.headers["Location"]).path).json()
    assert run["finished_at"], run
    return run


def test_the_runs_chart_reads_at_tablet_width(live_server, browser, unique):
    from playwright.sync_api import expect

    _a_finished_run(live_server)
    planner = unique("runs").lower()
    context, page, refused = page_for_new_user(
        browser, live_server, planner, "planner", "Rui (runs)", PASSWORD, viewport=TABLET)
    try:
        page.goto(live_server.url("/planner/runs"))
        page.fill("#username", planner)
        page.fill("#password", PASSWORD)
        page.keyboard.press("Enter")
        chart = page.locator("#run-durations svg")
        expect(chart).to_be_visible()
        page.locator("#run-durations").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir() / "planner-runs-tablet.png"))
        box = chart.bounding_box()
        # Every dot and every label inside the chart, none cut off at its edges.
        for text in chart.locator("text").all():
            inner = text.bounding_box()
            assert box["x"] <= inner["x"] and inner["x"] + inner["width"] <= box["x"] + box[
                "width"] + 0.5, text.text_content()
        # Text a person can read at arm's length on a tablet: its size once the chart is
        # scaled to the column (the suggestion chart's 1000-unit width made it 8 px here).
        scale = box["width"] / chart.evaluate("svg => svg.viewBox.baseVal.width")
        smallest = min(scale * float(t.evaluate("t => getComputedStyle(t).fontSize")[:-2])
                       for t in chart.locator("text").all())
        assert smallest >= 11, smallest
        assert refused == [], refused
    finally:
        context.close()
