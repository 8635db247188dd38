"""The suggestions table as a planner deciding many lines uses it, in Debian's Chromium:
search, the supplier filter, the CSV export of what is shown, deciding with the keys, a bulk
decision that asks first, reopening in bulk, and next/previous on the suggestion page."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import page_for_new_user, screenshot_dir
from tests.e2e.planner_data import SIZES, build_shop

PASSWORD = "planning-desk-password"
VIEWPORT = {"width": 1280, "height": 800}

pytestmark = pytest.mark.browser


def _statuses(live_server, sku: str) -> dict[str, str]:
    listed = live_server.get("/api/v1/replenishment/suggestions",
                             params={"sku": sku, "limit": 100}).json()
    return {s["size"]: s["status"] for s in listed["data"]}


def test_a_planner_searches_exports_decides_by_keys_confirms_in_bulk_and_reopens(
    live_server, browser, unique
):
    from playwright.sync_api import expect

    shop = build_shop(live_server, unique)
    jeans, tee = shop.skus["JEAN"], shop.skus["TEE"]
    planner = unique("kim").lower()
    context, page, refused = page_for_new_user(
        browser, live_server, planner, "planner", "Kim (planning)", PASSWORD,
        viewport=VIEWPORT, accept_downloads=True)
    try:
        page.goto(live_server.url("/login"))
        page.fill("#username", planner)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: urlsplit(url).path == "/planner")
        notice = page.locator(".notice[role=status]")

        # Search by the start of the SKU, in lower case, and filter by supplier.
        page.fill("#f-search", jeans[:7].lower())
        page.fill("#f-supplier", "NORDTEX")
        page.get_by_role("button", name="Filter").click()
        rows = page.locator("table.suggestions tbody tr[id^=s-]")
        expect(rows).to_have_count(len(SIZES))
        assert set(rows.locator("td.code a.open").all_inner_texts()) == {jeans}
        # The description's start; other tests' shops on this server sell the same tee, so
        # their rows are kept out by this shop's category.
        page.fill("#f-category", shop.category)
        page.fill("#f-search", "organic tee")
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(len(SIZES))
        assert set(rows.locator("td.code a.open").all_inner_texts()) == {tee}
        page.fill("#f-search", jeans[:7].lower())
        page.get_by_role("button", name="Filter").click()
        expect(rows).to_have_count(len(SIZES))

        # The export holds what the table shows: its columns and its rows.
        with page.expect_download() as download:
            page.locator("#export-csv").click()
        exported = list(csv.reader(io.StringIO(
            Path(download.value.path()).read_text(encoding="utf-8-sig"))))
        headings = [h.strip() for h in page.locator(
            "table.suggestions thead th[class^=col-]").all_inner_texts()]
        assert [re.sub(r" [▲▼]$", "", h) for h in headings] == exported[0]
        assert sorted(r[exported[0].index("Size")] for r in exported[1:]) == sorted(SIZES)

        # Keys: j to the first row, a approves it; j to the next, r rejects it.
        first_id = rows.first.get_attribute("id")
        page.keyboard.press("j")
        expect(rows.first).to_have_class(re.compile("current"))
        page.keyboard.press("a")
        expect(notice).to_contain_text("Approved")
        expect(page.locator(f"#{first_id}")).to_have_class(re.compile("current"))
        page.keyboard.press("j")
        second_id = page.locator("tr.current").get_attribute("id")
        assert second_id != first_id
        page.keyboard.press("r")
        expect(notice).to_contain_text("Rejected")
        page.keyboard.press("j")
        page.keyboard.press("e")
        expect(page.locator("tr.current input[name=quantity]")).to_be_focused()
        page.keyboard.press("Escape")
        assert sorted(_statuses(live_server, jeans).values()).count("proposed") == 3

        # A bulk reject says what it will touch and waits for a yes.
        page.get_by_role("button", name=re.compile("^Reject all 5 matching")).click()
        expect(page.locator("#confirm-what")).to_contain_text("This will reject 3 lines")
        _screenshot(page, "planner-bulk-confirm.png")
        page.get_by_role("button", name="Yes, reject 3 lines").click()
        expect(notice).to_contain_text("Rejected 3 of 5 matching suggestions.")
        assert set(_statuses(live_server, jeans).values()) == {"approved", "rejected"}

        # Nothing was exported yet, so every decision can be reopened, in bulk.
        page.get_by_role("button", name=re.compile("^Reopen all matching")).click()
        expect(page.locator("#confirm-what")).to_contain_text("This will reopen 5 lines")
        page.get_by_role("button", name="Yes, reopen 5 lines").click()
        expect(notice).to_contain_text("Reopened 5 of 5 matching suggestions.")
        assert set(_statuses(live_server, jeans).values()) == {"proposed"}
        history = live_server.get(
            f"/api/v1/replenishment/suggestions/{first_id[2:]}").json()["decisions"]
        assert [d["action"] for d in history] == ["approve", "reopen"]

        # From a row to its page, then j and k walk the same filtered table.
        page.keyboard.press("j")
        page.keyboard.press("o")
        page.wait_for_url(re.compile(rf"/planner/suggestions/{first_id[2:]}\?"))
        expect(page.locator("nav.between")).to_contain_text(f"1 of {len(SIZES)}")
        page.keyboard.press("j")
        page.wait_for_url(re.compile(rf"/planner/suggestions/{second_id[2:]}\?"))
        assert "search=" in page.url
        page.keyboard.press("k")
        page.wait_for_url(re.compile(rf"/planner/suggestions/{first_id[2:]}\?"))
        assert refused == [], refused
    finally:
        context.close()
    reopened = live_server.get("/api/v1/events", params={
        "type": "replenishment.reopened", "limit": 1000}).json()["data"]
    assert {e["payload"]["suggestion_id"] for e in reopened} >= {
        int(first_id[2:]), int(second_id[2:])}


def _screenshot(page, name: str) -> None:
    page.screenshot(path=str(screenshot_dir() / name))
