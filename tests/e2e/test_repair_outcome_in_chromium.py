"""A unit back from the repair bench, its label scanned at the station.

The queue lists only the 200 units longest in repair, so the unit in hand may not be on it:
its own page, opened by a scan, must take its outcome (repaired as A or B, or scrapped).
"""

from __future__ import annotations

import pytest

from tests.e2e.bench import DESK, _at, _log_in, _open_at_station, _receive
from tests.e2e.browser import screenshot_dir

pytestmark = pytest.mark.browser


def test_a_repaired_unit_scanned_at_the_station_goes_back_to_stock_from_its_page(
        live_server, browser, parcel, unique):
    from playwright.sync_api import expect

    [unit] = _receive(live_server, parcel, 1)
    graded = live_server.post(f"/api/v1/units/{unit}/grade", json={"grade": "C"})
    assert graded.json()["status"] == "in_repair", graded.text

    context, page, _, refused = _log_in(live_server, browser, unique, DESK, "grader")
    try:
        _open_at_station(live_server, page, unit)
        back = page.get_by_role("form", name="Back from repair")
        page.screenshot(path=str(screenshot_dir() / "grading-back-from-repair.png"),
                        full_page=True)
        back.get_by_role("button", name="Repaired: A").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(_at(f"/station/units/{unit}"))
        expect(page.locator(".notice").first).to_contain_text(f"Unit {unit}:")
        expect(page.get_by_role("form", name="Back from repair")).to_have_count(0)
        assert refused == [], refused
    finally:
        context.close()
    assert live_server.get(f"/api/v1/units/{unit}").json()["status"] == "restocked"
