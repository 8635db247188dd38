"""Every button at the bench can be read: its text stands out from what is behind it.

The undo offered after a grade borrowed the header's Log out style (white text for the dark
bar) and showed white on the light page: a grader who pressed the wrong key could not find it.
"""

from __future__ import annotations

import pytest

from tests.e2e.bench import DESK, _at, _log_in, _open_at_station, _receive
from tests.e2e.browser import unreadable_buttons

pytestmark = pytest.mark.browser


def test_the_buttons_of_the_unit_page_and_the_result_with_its_undo_are_readable(
        live_server, browser, parcel, unique):
    from playwright.sync_api import expect

    [unit] = _receive(live_server, parcel, 1)
    context, page, _, refused = _log_in(live_server, browser, unique, DESK, "grader")
    try:
        _open_at_station(live_server, page, unit)
        assert unreadable_buttons(page) == []
        page.keyboard.press("a")
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        page.wait_for_url(_at("/station/graded/"))
        expect(page.locator("#undo")).to_be_visible()
        assert unreadable_buttons(page) == []
        assert refused == [], refused
    finally:
        context.close()
