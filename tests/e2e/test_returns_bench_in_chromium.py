"""The whole returns bench in Debian's Chromium: receive a parcel, print and read its labels,
grade from the queue, undo, and approve a write-off as a supervisor, by keyboard and scanner.

Run at a desk's 1366x900 and a tablet's 820x1180. A wedge scanner types 5 ms a key, then Enter.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.e2e.bench import (
    DESK,
    VIEWPORTS,
    _at,
    _log_in,
    _receive,
    _scan,
    _scan_as_a_busy_tablet_passes_it_on,
)
from tests.e2e.browser import screenshot_dir

pytestmark = pytest.mark.browser


def _decoded(pdf: bytes) -> list[str]:
    """The Code 128 barcodes a scanner reads off the printed pages (203 dpi)."""
    import pypdfium2
    import zxingcpp

    found = []
    for page in pypdfium2.PdfDocument(pdf):
        image = page.render(scale=203 / 72).to_pil()
        found += [r.text for r in zxingcpp.read_barcodes(image)
                  if r.format == zxingcpp.BarcodeFormat.Code128]
    return found


def _shot(page, name: str, viewport) -> None:
    suffix = "" if viewport is DESK else "-tablet"
    page.screenshot(path=str(screenshot_dir() / f"{name}{suffix}.png"), full_page=True)


@VIEWPORTS
def test_a_parcel_is_received_labelled_graded_from_the_queue_and_a_grade_undone(
    live_server, browser, parcel, unique, viewport
):
    from playwright.sync_api import expect

    context, page, _, refused = _log_in(live_server, browser, unique, viewport, "grader")
    try:
        page.goto(live_server.url("/station/receive"))
        expect(page.locator("#rma")).to_be_focused()
        _scan(page, parcel["rma"].lower())
        expect(page.locator("#parcel-title")).to_contain_text(parcel["rma"])
        expect(page.get_by_text("Runs a size small")).to_be_visible()
        expect(page.locator("#count-1")).to_be_focused()
        page.locator("#location").select_option(parcel["wh"])
        # The box holds 3 tees (one more than expected), the coat and a sock.
        page.locator("#count-1").focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("3")
        page.locator("#other_items").focus()
        _scan(page, parcel["sock_gtin"])  # Enter in the list: the next scan goes below
        page.locator("#note").focus()
        page.keyboard.type("Box crushed at one corner")
        page.keyboard.press("Tab")  # on from the note, past the list, to Receive
        page.keyboard.press("Tab")
        expect(page.locator("#receive-form button[type=submit]")).to_be_focused()
        page.keyboard.press("Enter")
        surprises = page.locator("#surprises")
        expect(surprises).to_contain_text("3 counted but only 2 expected")
        expect(surprises).to_contain_text(f"{parcel['sock']} size 42 is not on {parcel['rma']}")
        _shot(page, "receiving-differences", viewport)
        page.locator("#receive-form button[type=submit]").focus()
        page.keyboard.press("Enter")  # Receive anyway
        page.wait_for_url(_at("/station/received/"))
        expect(page.locator("#received-units tbody tr")).to_have_count(5)
        expect(page.get_by_text("2 units received as blind receipts")).to_be_visible()
        expect(page.locator("#print-labels")).to_be_focused()  # labels offered at once
        _shot(page, "receiving-labels", viewport)

        def printed(link: str) -> bytes:
            answer = page.request.get(live_server.url(page.locator(link).get_attribute("href")))
            assert answer.headers["content-type"] == "application/pdf"
            return answer.body()

        shown = page.locator("#received-units tbody tr td:first-child").all_inner_texts()
        assert _decoded(printed("#print-labels")) == shown  # a scanner reads the unit id
        assert sorted(_decoded(printed("#print-sheet"))) == sorted(shown)
        expect(page.locator("#print-labels")).to_be_focused()
        _scan(page, parcel["rma"])  # the next parcel's scan is not lost on the button
        page.wait_for_url(lambda url: urlsplit(url).path == "/station/receive")
        expect(page.locator("#parcel-title")).to_contain_text(parcel["rma"])

        page.goto(live_server.url(f"/station/queue?location={parcel['wh']}"))
        expect(page.locator("#state-counts")).to_be_visible()
        expect(page.locator("#review li")).to_have_count(2)
        first = page.locator("#waiting li a").first
        expect(first).to_be_focused()
        _shot(page, "grading-queue", viewport)
        unit_id = first.locator("strong").inner_text()
        page.keyboard.press("Enter")  # opens straight to its grading page
        page.wait_for_url(_at(f"/station/units/{unit_id}"))
        page.keyboard.press("a")
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        page.wait_for_url(_at("/station/graded/"))
        expect(page.locator("#undo")).to_be_visible()
        expect(page.locator("#undo-form")).to_contain_text("You can undo it until")
        _shot(page, "grading-undo", viewport)
        page.locator("#undo").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(_at(f"/station/units/{unit_id}"))
        expect(page.locator(".notice").first).to_contain_text(f"Grade A of unit {unit_id} undone")
        assert refused == [], refused
    finally:
        context.close()
    unit = live_server.get(f"/api/v1/units/{unit_id}").json()
    assert unit["status"] == "awaiting_grading"
    assert [h["kind"] for h in unit["history"]] == ["grade", "undo"]
    assert unit["receiving_note"] == "Box crushed at one corner"


@VIEWPORTS
def test_a_supervisor_approves_a_costly_write_off_with_the_keyboard(
    live_server, browser, parcel, unique, viewport
):
    from playwright.sync_api import expect

    [coat] = _receive(live_server, parcel, 2)
    grader_token = live_server.cli("token", "create", "--name", unique("bench"),
                                   "--role", "grader").stdout.strip()
    graded = live_server.post(f"/api/v1/units/{coat}/grade", json={"grade": "D"},
                              headers=live_server.headers(grader_token))
    assert graded.json()["awaiting_approval"] is True

    context, page, _, refused = _log_in(live_server, browser, unique, viewport, "admin")
    try:
        page.goto(live_server.url("/supervisor"))
        row = page.locator("#write-offs tr", has_text=coat)
        expect(row).to_contain_text("180.00")
        _shot(page, "supervisor", viewport)
        row.get_by_role("button", name="Approve write-off").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(_at("/supervisor"))
        expect(page.locator(".notice").first).to_contain_text(f"Write-off of unit {coat} approved")
        expect(page.locator("#write-offs tr", has_text=coat)).to_have_count(0)
        assert refused == [], refused
    finally:
        context.close()
    assert live_server.get(f"/api/v1/units/{coat}").json()["status"] == "written_off"


def test_a_parcel_without_an_rma_is_received_by_picking_the_sku_and_its_size(
    live_server, browser, parcel, unique
):
    from playwright.sync_api import expect

    context, page, _, refused = _log_in(live_server, browser, unique, DESK, "grader")
    try:
        page.goto(live_server.url("/station/receive"))
        page.get_by_role("link", name="Receive it without an RMA").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(_at("/station/receive/blind"))
        expect(page.locator("#gtin")).to_be_focused()
        page.keyboard.press("Tab")  # no barcode on it: the SKU, then its size
        page.keyboard.type(parcel["coat"])
        page.keyboard.press("Tab")
        expect(page.locator("#sku-sizes")).to_have_text(f"Sizes of {parcel['coat']}: L")
        expect(page.locator("#sizes option")).to_have_count(1)
        page.keyboard.type("L")
        page.locator("#location").select_option(parcel["wh"])
        page.locator("#note").focus()
        page.keyboard.type("No packing slip")
        page.locator("#blind-form button[type=submit]").focus()
        _shot(page, "receiving-blind", DESK)
        page.keyboard.press("Enter")
        page.wait_for_url(_at("/station/received/"))
        expect(page.get_by_text("1 unit received as blind receipt,")).to_be_visible()
        unit_id = page.locator("#received-units tbody tr td:first-child").inner_text()
        assert refused == [], refused
    finally:
        context.close()
    unit = live_server.get(f"/api/v1/units/{unit_id}").json()
    assert (unit["sku"], unit["flagged_for_review"], unit["receiving_note"]) == (
        parcel["coat"], True, "No packing slip")


def test_at_tablet_width_each_parcel_count_says_what_it_counts_and_queue_filters_are_tappable(
    live_server, browser, parcel, unique
):
    """Below 820 px the lines stack and their heading row is hidden: each number must then say
    what it is (expected, already received), and the queue's filters must be finger-sized."""
    from playwright.sync_api import expect

    context, page, _, refused = _log_in(live_server, browser, unique,
                                        {"width": 768, "height": 1024}, "grader")
    try:
        page.goto(live_server.url("/station/receive"))
        _scan(page, parcel["rma"])
        first = page.locator("#receive-form tbody tr").first
        expect(first).to_contain_text("Expected 2")
        expect(first).to_contain_text("Already received 0")
        expect(first.get_by_text("In this parcel")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 768

        page.goto(live_server.url("/station/queue"))
        for select in (page.locator("#location"), page.locator("#reason")):
            box = select.bounding_box()
            assert box is not None and box["height"] >= 40, box
        assert refused == [], refused
    finally:
        context.close()


def test_after_an_rma_nothing_matches_the_next_scan_replaces_it_instead_of_joining_it(
    live_server, browser, parcel, unique
):
    """A misread label is common at the dock: the field keeps it (so the grader sees what was
    read), and the next scan must open the next parcel, not "RMA-2RMA-1"."""
    from playwright.sync_api import expect

    context, page, _, refused = _log_in(live_server, browser, unique, DESK, "grader")
    try:
        page.goto(live_server.url("/station/receive"))
        _scan(page, "RMA-MISREAD")
        expect(page.locator("#receive-error")).to_contain_text("No return matches “RMA-MISREAD”")
        expect(page.locator("#rma")).to_be_focused()
        _scan(page, parcel["rma"])
        expect(page.locator("#parcel-title")).to_contain_text(parcel["rma"])
        assert refused == [], refused
    finally:
        context.close()


def test_a_scan_into_a_count_opens_the_parcel_though_a_key_is_held_back_after_typing(
    live_server, browser, parcel, unique
):
    """The count was typed by hand, then the next parcel scanned into it by a scanner that
    shifts for capitals, one key held back: the person's count stays out of the scan and the
    held key in it, so the scanned RMA itself opens (not "1RMA-…", nor "RMA" and a stray)."""
    from playwright.sync_api import expect

    context, page, _, refused = _log_in(live_server, browser, unique, DESK, "grader")
    try:
        page.goto(live_server.url("/station/receive"))
        _scan(page, parcel["rma"])
        expect(page.locator("#count-1")).to_be_focused()
        page.keyboard.press("Control+A")
        page.keyboard.type("1", delay=150)  # a person
        page.wait_for_timeout(300)
        with page.expect_navigation():
            _scan_as_a_busy_tablet_passes_it_on(page, parcel["rma"],
                                                held=len(parcel["rma"]) // 2)
        expect(page.locator("#parcel-title")).to_contain_text(parcel["rma"])
        expect(page.locator("#receive-error")).to_have_count(0)
        expect(page.locator("#count-1")).to_have_value("2")  # opened afresh, nothing received
        assert live_server.get(f"/api/v1/returns/{parcel['rma']}").json()["units"] == []
        assert refused == [], refused
    finally:
        context.close()
