"""At the bench in Chromium: the customer's outcome before grading, for each of the three.

Reuses the grading station suite's bench (a grader logged in by keyboard) and its received
return of eight 'too small' units, refunded on inspection as the shipped policy says.
"""

from __future__ import annotations

import pytest

from tests.e2e.browser import screenshot_dir
from tests.e2e.test_grading_station_in_chromium import (  # noqa: F401  (received: a fixture)
    DESK,
    _at,
    _bench,
    _grade,
    _scan,
    received,
)

pytestmark = pytest.mark.browser


def _choose(page, key: str, defects: tuple[str, ...] = ()):
    page.keyboard.press(key.lower())
    for defect in defects:
        page.locator(f"input[name=defects][value={defect}]").check()


def _grade_now(page):
    page.locator("#grade-submit").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(_at("/station/graded/"))


def _refunds_of(live_server, rma: str) -> list[dict]:
    rows = live_server.get("/api/v1/refunds", params={"status": "due", "limit": 1000}).json()
    return [r for r in rows["data"] if r["rma"] == rma]


@pytest.mark.parametrize(("key", "defects", "expected", "verdict"), [
    ("A", (), "Customer: refund 25.00 in full", "full refund"),
    ("A", ("missing_tag",), "Customer: refund 22.50 after deducting Missing tags 2.50",
     "refund with deductions"),
    ("B", ("worn_or_washed",), "Customer: refused (worn or washed): send back to customer, "
     "no refund", "refused: sent back, no refund"),
], ids=["accept", "deduct", "refuse"])
def test_the_bench_shows_what_the_customer_gets_then_grades_it(
    live_server, browser, received, unique, key, defects, expected, verdict  # noqa: F811
):
    from playwright.sync_api import expect

    unit_id = received["units"][0]
    context, page, _, refused = _bench(live_server, browser, unique, DESK)
    try:
        _scan(page, unit_id)
        page.wait_for_url(_at(f"/station/units/{unit_id}"))
        expect(page.locator("#customer-gets")).to_be_hidden()  # nothing chosen yet
        _choose(page, key, defects)
        expect(page.locator("#customer-gets")).to_have_text(expected)
        assert _grade(page, key).get_attribute("aria-pressed") == "true"
        outcome = {"full refund": "accept", "refund with deductions": "deduct"}.get(
            verdict, "refuse")
        page.screenshot(path=str(screenshot_dir() / f"grading-customer-{outcome}.png"),
                        full_page=True)
        _grade_now(page)
        expect(page.locator("#customer-outcome")).to_contain_text(verdict)
        if key == "B":
            expect(page.locator(".where").first).to_contain_text("Send back to customer")
            expect(page.locator("#send-back-label")).to_contain_text(received["rma"])
            expect(page.locator(".rule")).to_have_text("worn or washed")
            page.screenshot(path=str(screenshot_dir() / "grading-send-back.png"))
        assert refused == [], refused
    finally:
        context.close()
    unit = live_server.get(f"/api/v1/units/{unit_id}").json()
    assert unit["status"] == ("returned_to_customer" if key == "B" else
                              ("restocked" if not defects else "second_quality"))
    # Seven units of the line still wait for grading: nothing is owed before the last one.
    assert _refunds_of(live_server, received["rma"]) == []
