"""The grading station in Debian's Chromium against the real server, by keyboard and scanner.

A keyboard-wedge scanner is a keyboard that types fast: Playwright types a label 5 ms a key,
then Enter, as one does. Playwright drives the system browser at /usr/bin/chromium; it never
downloads one. Where the browser is missing the test is skipped with the reason, except in CI,
where that is a failure.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from tests.e2e.bench import _scan_as_a_busy_tablet_passes_it_on
from tests.e2e.browser import page_for_new_user, screenshot_dir

PASSWORD = "bench-three-password"
CSV = {"Content-Type": "text/csv"}
UNITS = 8
SCANNER_DELAY_MS = 5  # a wedge scanner's pace; people type ten or more times slower
DESK = {"width": 1024, "height": 768}
TABLET = {"width": 820, "height": 1180}

pytestmark = pytest.mark.browser


@pytest.fixture
def received(live_server, unique):
    """Eight units of a 'too small' return, received at a warehouse through the API."""
    shop = {"sku": unique("TEE"), "wh": unique("WH"), "order": unique("SO")}
    for kind, text in [
        ("locations", f"code,name,type\n{shop['wh']},Central warehouse,warehouse\n"),
        (
            "items",
            "sku,size,category,description,unit_cost,price,lead_time_days\n"
            f"{shop['sku']},M,tops,Black tee organic cotton,8.50,25.00,21\n",
        ),
        (
            "sales",
            "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n"
            f"{date.today() - timedelta(days=3)},{shop['order']},1,{shop['sku']},M,{UNITS},"
            f"25.00,online,{shop['wh']}\n",
        ),
    ]:
        response = live_server.post(
            f"/api/v1/imports/{kind}", data=text.encode(), headers=live_server.headers(**CSV)
        )
        assert response.status_code == 201, response.text
    authorized = live_server.post(
        "/api/v1/returns",
        json={
            "order_ref": shop["order"],
            "lines": [{"line_ref": "1", "quantity": UNITS, "reason": "too_small",
                       "note": "Runs a size small"}],
        },
    )
    assert authorized.status_code == 201, authorized.text
    rma = authorized.json()["rma"]
    receipt = live_server.post(
        f"/api/v1/returns/{rma}/receipts",
        json={"location": shop["wh"], "lines": [{"line_no": 1, "quantity": UNITS}]},
    )
    assert receipt.status_code == 201, receipt.text
    return {**shop, "rma": rma, "units": [u["unit_id"] for u in receipt.json()["units"]]}


def _with_grade_letters(labels: list[str]) -> list[str]:
    """Labels are random hex: those holding grade letters first, a D (write-off) the worst."""
    ranked = sorted(labels, key=lambda u: ("D" in u, len(re.findall("[A-D]", u))), reverse=True)
    assert re.search("[A-D]", ranked[0]), f"no label with a letter A-D among {labels}"
    return ranked


def _at(path_prefix: str):
    # On the path only: "/login?next=/station" must not count as being at /station.
    return lambda url: urlsplit(url).path.startswith(path_prefix)


def _on_hand(live_server, shop, condition: str) -> int:
    rows = live_server.get(
        "/api/v1/stock", params={"sku": shop["sku"], "location": shop["wh"], "condition": condition}
    ).json()["data"]
    return sum(row["on_hand"] for row in rows)


def _unit(live_server, unit_id: str) -> dict:
    return live_server.get(f"/api/v1/units/{unit_id}").json()


def _bench(live_server, browser, unique, viewport):
    """A grader logged in by keyboard at /station, the scan field focused; and the list of
    Content-Security-Policy refusals Chromium will report (every page must work under it)."""
    from playwright.sync_api import expect

    grader = unique("grace").lower()
    context, page, refused = page_for_new_user(
        browser, live_server, grader, "grader", "Grace (bench 3)", PASSWORD, viewport=viewport)
    page.goto(live_server.url("/station"))
    assert "/login" in page.url  # the station needs a login
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(grader)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(_at("/station"))
    expect(page.locator("#code")).to_be_focused()  # ready for the scanner at once
    return context, page, grader, refused


def _scan(page, label: str) -> None:
    page.keyboard.type(label, delay=SCANNER_DELAY_MS)
    page.keyboard.press("Enter")


def _grade(page, key: str):
    return page.locator(f"button.grade[data-key={key}]")


def test_a_grader_grades_a_unit_B_with_the_keyboard_and_it_lands_in_second_quality(
    live_server, browser, received, unique
):
    from playwright.sync_api import expect

    unit_id = received["units"][0]
    context, page, grader, refused = _bench(live_server, browser, unique, DESK)
    try:
        _scan(page, unit_id)
        page.wait_for_url(_at(f"/station/units/{unit_id}"))
        expect(_grade(page, "A")).to_be_focused()
        assert page.get_by_text("Runs a size small").is_visible()
        assert page.get_by_text("Too small").is_visible()

        page.keyboard.press("b")  # chooses, and only chooses
        expect(_grade(page, "B")).to_have_attribute("aria-pressed", "true")
        expect(_grade(page, "A")).to_have_attribute("aria-pressed", "false")
        page.keyboard.press("Tab")  # on from the grades to the first defect
        page.keyboard.press("Space")
        assert page.locator("input[name=defects][value=stain]").is_checked()
        page.keyboard.press("Enter")  # goes to the Grade button; grades nothing yet
        submit = page.locator("#grade-submit")
        expect(submit).to_be_focused()
        expect(submit).to_contain_text("Grade B: Second quality / outlet")
        assert _unit(live_server, unit_id)["status"] == "awaiting_grading"
        page.screenshot(path=str(screenshot_dir() / "grading-station.png"), full_page=True)
        page.keyboard.press("Enter")  # the deliberate second press grades
        page.wait_for_url(_at("/station/graded/"))

        verdict = page.locator(".verdict")
        assert "Restock as second quality" in verdict.inner_text()
        assert "Outlet bin: second quality" in page.locator(".where").inner_text()
        assert "Stain" in verdict.inner_text()
        expect(page.locator("#code")).to_be_focused()  # ready for the next scan
        assert refused == [], refused  # every station page works under the CSP
    finally:
        context.close()
    assert _on_hand(live_server, received, "second_quality") == 1
    graded = _unit(live_server, unit_id)
    assert graded["history"][0]["actor"] == f"user:{grader}"


def test_a_label_scanned_on_an_open_unit_opens_that_unit_and_grades_nothing(
    live_server, browser, received, unique
):
    """Issue 14: a scanned U…D on an open unit wrote that unit off. Now it opens the scan."""
    from playwright.sync_api import expect

    first, second, third, *_ = _with_grade_letters(received["units"])
    context, page, _, refused = _bench(live_server, browser, unique, TABLET)
    try:
        _scan(page, first)
        page.wait_for_url(_at(f"/station/units/{first}"))
        expect(_grade(page, "A")).to_be_focused()  # where the focus was when it went wrong
        _scan(page, second)
        page.wait_for_url(_at(f"/station/units/{second}"))
        expect(page.locator("h1")).to_have_text(f"Unit {second}")
        expect(page.locator("button.grade[aria-pressed=true]")).to_have_count(0)
        page.screenshot(path=str(screenshot_dir() / "grading-station-tablet.png"))

        # A grade chosen and the Grade button in focus, one key from grading: a scan still
        # only opens what it names.
        page.keyboard.press("c")
        page.keyboard.press("Enter")
        expect(page.locator("#grade-submit")).to_be_focused()
        _scan(page, third)
        page.wait_for_url(_at(f"/station/units/{third}"))

        # A scan that lands in the note is taken back out of it and opened too.
        page.locator("#note").click()
        page.keyboard.type("seam", delay=150)  # a person
        _scan(page, second)
        page.wait_for_url(_at(f"/station/units/{second}"))

        # A grade chosen, and a moment later a scan: the choice was a choice, the scan a scan.
        page.keyboard.press("b", delay=100)
        _scan(page, third)
        page.wait_for_url(_at(f"/station/units/{third}"))

        # The same with a busy tablet handing one of the scan's keys on late.
        page.keyboard.press("b", delay=100)
        _scan_as_a_busy_tablet_passes_it_on(page, second, held=5)
        page.wait_for_url(_at(f"/station/units/{second}"))

        # Text typed by hand into the page is a scan as well: it says what it is not.
        page.keyboard.type("d-4b", delay=150)
        page.keyboard.press("Enter")
        page.wait_for_url(_at("/station"))
        expect(page.locator("#scan-error")).to_contain_text("No unit label or RMA matches “d-4b”")

        # An RMA scanned at the scan field lists its units, these three among them.
        _scan(page, received["rma"])
        expect(page.locator("#pick-title")).to_contain_text(received["rma"])
        expect(page.locator(".pick li")).to_have_count(UNITS)
        assert refused == [], refused
    finally:
        context.close()
    for unit_id in (first, second, third):
        unit = _unit(live_server, unit_id)
        assert (unit["status"], unit["history"]) == ("awaiting_grading", []), unit
    assert _on_hand(live_server, received, "quarantine") == UNITS


def test_a_write_off_shows_its_value_and_waits_for_an_explicit_confirm_at_tablet_width(
    live_server, browser, received, unique
):
    from playwright.sync_api import expect

    unit_id = received["units"][0]
    context, page, _, refused = _bench(live_server, browser, unique, TABLET)
    try:
        _scan(page, unit_id)
        page.wait_for_url(_at(f"/station/units/{unit_id}"))
        page.keyboard.press("d")
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")  # Grade D: asks first, with the value
        dialog = page.locator("#write-off-confirm")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Value: 8.50")
        expect(dialog).to_contain_text("It leaves stock as soon as you confirm.")
        expect(page.get_by_role("link", name="Choose another grade")).to_be_focused()
        page.screenshot(path=str(screenshot_dir() / "grading-station-write-off.png"))
        page.keyboard.press("Enter")  # Enter on the focused choice: back to the grades
        expect(dialog).to_be_hidden()
        expect(_grade(page, "D")).to_be_focused()
        assert _unit(live_server, unit_id)["status"] == "awaiting_grading"

        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Write off · 8.50")).to_be_focused()
        page.keyboard.press("Enter")  # the explicit confirm
        page.wait_for_url(_at("/station/graded/"))
        expect(page.locator(".where")).to_have_text(
            "Write-off bin: already written off, no approval needed")
        expect(page.locator(".stock")).to_contain_text("value 8.50")
        page.screenshot(path=str(screenshot_dir() / "grading-station-written-off.png"))
        assert refused == [], refused
    finally:
        context.close()
    written_off = _unit(live_server, unit_id)
    assert (written_off["status"], len(written_off["history"])) == ("written_off", 1)


def test_when_the_page_cannot_ask_first_the_server_still_asks_before_writing_off(
    live_server, browser, received, unique
):
    """The page's own check failing (here: its request is cut) must not write a unit off."""
    from playwright.sync_api import expect

    unit_id = received["units"][0]
    context, page, _, refused = _bench(live_server, browser, unique, TABLET)
    try:
        page.route("**/outcome?*", lambda route: route.abort())
        _scan(page, unit_id)
        page.wait_for_url(_at(f"/station/units/{unit_id}"))
        page.keyboard.press("d")
        page.keyboard.press("Enter")
        with page.expect_navigation():
            page.keyboard.press("Enter")  # the form goes to the server unconfirmed
        dialog = page.locator("#write-off-confirm")
        expect(dialog).to_contain_text("Value: 8.50")
        expect(page.get_by_role("link", name="Choose another grade")).to_be_focused()
        assert _unit(live_server, unit_id)["status"] == "awaiting_grading"
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")  # Write off · 8.50
        page.wait_for_url(_at("/station/graded/"))
        expect(page.locator(".where")).to_contain_text("already written off")
        assert refused == [], refused
    finally:
        context.close()
    assert _unit(live_server, unit_id)["status"] == "written_off"
