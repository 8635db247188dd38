"""Every page at a tablet's 768x1024, with the keyboard only and a scanner on the bench pages.

An admin (who sees every page) logs in by keyboard, scans a parcel's RMA at scanner speed on
the receiving page, receives it with Enter, scans a unit label on the station, then opens each
page of the menu: none may be wider than the screen (a page that scrolls sideways hides its
last column or button), each keeps the focus visible while tabbing, every button's text stands
out from what is behind it, and none trips the CSP.
"""

from __future__ import annotations

import pytest

from tests.e2e.bench import _log_in, _scan
from tests.e2e.browser import screenshot_dir, unreadable_buttons

TABLET = {"width": 768, "height": 1024}
MENU = ("Grading station", "Receiving", "Grading queue", "Supervisor", "Suggestions",
        "Returns analytics", "Quality", "Forecast runs", "Refunds", "API documentation")

pytestmark = pytest.mark.browser


def _fits(page) -> None:
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= TABLET["width"], f"{page.url} is {wide} px wide"


def test_every_page_fits_a_tablet_and_works_by_keyboard_and_scanner(
        live_server, browser, unique, parcel):
    from playwright.sync_api import expect

    context, page, _, refused = _log_in(live_server, browser, unique, TABLET, "admin")
    try:
        # The bench: the RMA scanned at scanner speed, the parcel received with the keyboard.
        page.goto(live_server.url("/station/receive"))
        expect(page.locator("input[name=rma]")).to_be_focused()
        _scan(page, parcel["rma"])
        expect(page.locator("#parcel-title")).to_contain_text(parcel["rma"])
        expect(page.locator("#count-1")).to_be_focused()  # the count, ready to confirm
        # The next scan with the focus still in the count opens what was scanned; it is not
        # typed into the count ("2RMA-…", which the form would refuse) nor received.
        _scan(page, parcel["rma"])
        expect(page.locator("#parcel-title")).to_contain_text(parcel["rma"])
        expect(page.locator("#count-1")).to_have_value("2")
        expect(page.locator("#count-1")).to_be_focused()
        assert live_server.get(f"/api/v1/returns/{parcel['rma']}").json()["units"] == []
        _fits(page)
        page.screenshot(path=str(screenshot_dir() / "walk-receive.png"), full_page=True)
        page.keyboard.press("Enter")  # the counts as expected: received
        expect(page.locator(".verdict .disposition")).to_have_text("Received 3 units")
        _fits(page)
        page.screenshot(path=str(screenshot_dir() / "walk-received.png"), full_page=True)
        unit = page.locator("#received-units tbody tr td:first-child").first.inner_text()
        # On the station a label scanned with the focus anywhere opens that unit.
        page.goto(live_server.url("/station"))
        page.locator("h1").click()
        _scan(page, unit.strip())
        page.wait_for_url(lambda url: "/station/units/" in url)
        expect(page.locator("#grade-form")).to_be_visible()
        assert page.locator("button.grade[aria-pressed=true]").count() == 0  # nothing chosen
        _fits(page)
        page.screenshot(path=str(screenshot_dir() / "walk-unit.png"), full_page=True)

        for name in MENU:
            page.goto(live_server.url("/"))
            link = page.get_by_role("navigation", name="Pages").get_by_role(
                "link", name=name, exact=True)
            link.focus()
            page.keyboard.press("Enter")
            page.wait_for_load_state()
            expect(page.locator("h1, .swagger-ui .info .title").first).to_be_visible()
            _fits(page)
            assert unreadable_buttons(page) == [], name  # no white on white
            # The menu is a row or two under the name, not a column of one link a line.
            rows = page.evaluate("""() => new Set([...document.querySelectorAll(
                'nav[aria-label=Pages] a')].map(a => Math.round(a.getBoundingClientRect().top))
                ).size""")
            assert rows <= 3, f"the menu takes {rows} lines on {name}"
            for chart in page.locator(".small-multiples").all():
                # A chart drawn 2.6 in wide per group is not blown up to the whole column.
                columns = int(chart.get_attribute("class").split("cols-")[1][0])
                assert chart.locator("svg").bounding_box()["width"] <= 400 * columns, name
            # Tabbing moves a visible focus: the element that has it is on the page and outlined.
            page.keyboard.press("Tab")
            focused = page.evaluate("""() => { const e = document.activeElement;
                const s = getComputedStyle(e); const r = e.getBoundingClientRect();
                return {tag: e.tagName, outline: s.outlineStyle, width: r.width}; }""")
            assert focused["tag"] != "BODY" and focused["width"] > 0, (name, focused)
            slug = name.lower().replace(" ", "-")
            page.screenshot(path=str(screenshot_dir() / f"walk-{slug}.png"), full_page=True)
        assert refused == [], refused
    finally:
        context.close()
