"""The refunds page's status tabs in Chromium: a planner can see which list is shown.

Due, Overdue and Paid are three links over one table; the one shown must look different from
the other two (not only to a screen reader, through aria-current), and each must be a target
a finger can hit at a tablet's width.
"""

from __future__ import annotations

import pytest

from tests.e2e.bench import _log_in
from tests.e2e.browser import screenshot_dir

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def _look(link) -> dict:
    return link.evaluate("""a => { const s = getComputedStyle(a);
        return {background: s.backgroundColor, weight: s.fontWeight}; }""")


def test_the_refund_status_shown_is_marked_and_the_tabs_are_tappable(
        live_server, browser, unique):
    from playwright.sync_api import expect

    context, page, _, refused = _log_in(live_server, browser, unique, TABLET, "planner")
    try:
        page.goto(live_server.url("/planner/refunds"))
        tabs = page.get_by_role("navigation", name="Refund status")
        for shown in ("Due", "Overdue", "Paid"):
            tabs.get_by_role("link", name=shown, exact=True).focus()
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url, shown=shown: f"status={shown.lower()}" in url)
            current = tabs.get_by_role("link", name=shown, exact=True)
            expect(current).to_have_attribute("aria-current", "page")
            others = [tabs.get_by_role("link", name=n, exact=True)
                      for n in ("Due", "Overdue", "Paid") if n != shown]
            assert all(_look(current) != _look(other) for other in others), shown
            for link in (current, *others):
                assert link.bounding_box()["height"] >= 36, shown
            if shown == "Due":
                page.screenshot(path=str(screenshot_dir() / "planner-refunds-tablet.png"))
        assert refused == [], refused
    finally:
        context.close()
