"""A parcel whose return takes no more units, scanned at the dock.

Only an authorized return can be received. A parcel scanned for a return that has arrived in
full, or was cancelled, must say so at the scan, with no count to fill in that Receive would
then refuse, and leave the scan field ready for the next parcel.
"""

from __future__ import annotations

import pytest

from tests.e2e.bench import DESK, _log_in, _scan
from tests.e2e.browser import screenshot_dir

pytestmark = pytest.mark.browser


def test_a_return_received_in_full_names_its_units_and_offers_no_count(
        live_server, browser, parcel, unique):
    from playwright.sync_api import expect

    received = live_server.post(f"/api/v1/returns/{parcel['rma']}/receipts", json={
        "location": parcel["wh"], "lines": [{"line_no": 1, "quantity": 2},
                                            {"line_no": 2, "quantity": 1}]})
    assert received.status_code == 201, received.text
    units = [u["unit_id"] for u in received.json()["units"]]
    context, page, _, refused = _log_in(live_server, browser, unique, DESK, "grader")
    try:
        page.goto(live_server.url("/station/receive"))
        _scan(page, parcel["rma"])
        closed = page.locator("#parcel-closed")
        expect(closed).to_contain_text(f"Every unit of {parcel['rma']} has arrived already")
        for unit in units:
            expect(closed.get_by_role("link", name=unit)).to_be_visible()
        expect(page.locator("#receive-form")).to_have_count(0)
        expect(page.locator("#rma")).to_be_focused()  # the next parcel's scan replaces it
        page.screenshot(path=str(screenshot_dir() / "receiving-arrived.png"), full_page=True)
        _scan(page, "RMA-NEXT")
        expect(page.locator("#receive-error")).to_contain_text("No return matches “RMA-NEXT”")
        assert refused == [], refused
    finally:
        context.close()


def test_a_cancelled_return_says_so_at_the_scan_and_points_to_a_blind_receipt(
        live_server, browser, parcel, unique):
    from playwright.sync_api import expect

    assert live_server.post(f"/api/v1/returns/{parcel['rma']}/cancel").status_code == 200
    context, page, _, refused = _log_in(live_server, browser, unique, DESK, "grader")
    try:
        page.goto(live_server.url("/station/receive"))
        _scan(page, parcel["rma"])
        closed = page.locator("#parcel-closed")
        expect(closed).to_contain_text(
            f"{parcel['rma']} is cancelled: nothing can be received against it")
        expect(page.locator("#receive-form")).to_have_count(0)
        expect(page.locator("#rma")).to_be_focused()
        closed.get_by_role("link", name="receive them without an RMA").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: url.endswith("/station/receive/blind"))
        assert refused == [], refused
    finally:
        context.close()
    assert live_server.get(f"/api/v1/returns/{parcel['rma']}").json()["units"] == []
