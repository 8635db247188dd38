"""The planner console in Debian's Chromium against the real server, with data loaded by the API.

A planner approves one suggestion, edits one, rejects one and approves the rest in bulk; the
API then reports exactly those decisions. The screenshots the README shows are taken here, so
they always show the pages as they are. Playwright drives /usr/bin/chromium and never downloads
a browser; where it is missing the test is skipped, except in CI, where that is a failure.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import page_for_new_user, screenshot_dir
from tests.e2e.planner_data import SIZES, build_shop

PASSWORD = "planning-desk-password"
VIEWPORT = {"width": 1280, "height": 800}

pytestmark = pytest.mark.browser


def _at(path: str):
    # On the path only: "/login?next=/planner" must not count as being at /planner.
    return lambda url: urlsplit(url).path == path


def _suggestions(live_server, sku: str) -> dict[str, dict]:
    listed = live_server.get("/api/v1/replenishment/suggestions",
                             params={"sku": sku, "limit": 100}).json()
    return {s["size"]: s for s in listed["data"]}


def _screenshot(page, name: str, **options) -> None:
    page.screenshot(path=str(screenshot_dir() / name), **options)


def test_a_planner_approves_edits_rejects_and_bulk_approves_suggestions(
    live_server, browser, unique
):
    from playwright.sync_api import expect

    shop = build_shop(live_server, unique)
    # The jeans come back now and then, so every size needs an order; the tee comes back so
    # much that its returns cover some sizes (return-aware planning orders none there).
    jeans, tee = shop.skus["JEAN"], shop.skus["TEE"]
    before = _suggestions(live_server, jeans)
    assert sorted(before) == sorted(SIZES), before
    assert all(s["status"] == "proposed" for s in before.values())
    planner = unique("pat").lower()
    context, page, refused = page_for_new_user(
        browser, live_server, planner, "planner", "Pat (planning)", PASSWORD, viewport=VIEWPORT)
    try:
        page.goto(live_server.url(f"/planner?sku={jeans}&sort=-suggested_qty"))
        assert "/login" in page.url  # the console needs a login, like the station
        page.fill("#username", planner)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(_at("/planner"))
        notice = page.locator(".notice[role=status]")

        def row(size: str):
            return page.locator(f"#s-{before[size]['id']}")

        row("M").get_by_role("button", name="Approve").click()
        expect(notice).to_contain_text(f"Approved {jeans} size M")

        row("S").locator("summary").click()
        row("S").locator("input[name=quantity]").fill("13")
        row("S").locator("input[name=comment]").fill("school starts: more small sizes")
        row("S").get_by_role("button", name=re.compile("Save the quantity")).click()
        expect(notice).to_contain_text("13 units rounded up to 16 (4 cases of 4)")

        row("XL").get_by_role("button", name=re.compile("^Reject")).click()
        expect(notice).to_contain_text(f"Rejected {jeans} size XL")
        expect(row("XL").locator("td.status")).to_contain_text("rejected")
        page.evaluate("window.scrollTo(0, 0)")  # the redirect scrolled to the decided row
        _screenshot(page, "planner-suggestions.png")

        page.locator("#select-all").check()  # the JS convenience: ticks every row
        assert page.locator("input[name=ids]:checked").count() == 5
        page.get_by_role("button", name="Approve ticked").click()
        # Only XS, S (edited) and L still wait for a planner: the page says so first.
        expect(page.locator("#confirm-what")).to_contain_text("This will approve 3 lines")
        page.get_by_role("button", name="Yes, approve 3 lines").click()
        expect(notice).to_contain_text("Approved 3 of 5 ticked suggestions.")

        # The size whose order the expected returns cut the most makes the clearest chart.
        shown = max(before.values(), key=lambda s: (s["saved_by_returns"], s["size"]))
        page.goto(live_server.url(f"/planner/suggestions/{shown['id']}"))
        expect(page.locator(".chart svg")).to_be_visible()
        expect(page.locator(".chart svg title")).to_contain_text("Weekly sales, forecast")
        page.get_by_text("The chart's figures, week by week").click()  # opens by keyboard too
        expect(page.locator(".chart-figures tbody tr").first).to_be_visible()
        page.get_by_text("The chart's figures, week by week").click()
        _screenshot(page, "planner-suggestion.png", full_page=True,
                    clip={"x": 0, "y": 0, "width": 1280, "height": 1250})

        page.get_by_role("link", name="Returns analytics").click()
        page.select_option("#f-window", "90")
        page.fill("#f-category", shop.category)
        page.get_by_role("button", name="Show", exact=True).click()
        expect(page.locator("table.heat")).to_contain_text(tee)
        # The heat map is coloured by classes from planner.css (the CSP refuses style="...").
        worst = page.locator("table.heat td.heat-20").first
        assert worst.evaluate("c => getComputedStyle(c).backgroundColor") != "rgba(0, 0, 0, 0)"
        expect(page.locator(".flags")).to_contain_text("runs small")
        _screenshot(page, "planner-returns.png")

        _check_the_decisions(live_server, shop, before, planner)

        # Re-running the same day replaces only undecided suggestions.
        page.get_by_role("link", name="Forecast runs").click()
        expect(page.locator("table.runs")).to_contain_text(f"Run {shop.run_id}")
        page.fill("#as-of", shop.as_of.isoformat())
        page.get_by_role("button", name="Run now").click()
        expect(notice).to_contain_text(f"requested for {shop.as_of}")
        expect(page.locator("table.runs tbody tr").first).to_contain_text("succeeded")
        _screenshot(page, "planner-runs.png")

        # The API documentation starts Swagger UI from its own script file, not inline.
        page.goto(live_server.url("/api/v1/docs"))
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Returns")
        assert refused == [], refused
    finally:
        context.close()
    assert {s["status"] for s in _suggestions(live_server, jeans).values()} == {
        "approved", "rejected"}  # the decisions outlived the re-run
    for name in ("planner-suggestions", "planner-suggestion", "planner-returns", "planner-runs"):
        assert (screenshot_dir() / f"{name}.png").stat().st_size < 300_000, name


def _check_the_decisions(live_server, shop, before: dict, planner: str) -> None:
    """What the browser did, as the API reports it."""
    after = _suggestions(live_server, shop.skus["JEAN"])
    assert {size: s["status"] for size, s in after.items()} == {
        "XS": "approved", "S": "approved", "M": "approved", "L": "approved", "XL": "rejected"}
    assert after["S"]["approved_qty"] == 16  # the edit survived the bulk approval
    assert after["M"]["approved_qty"] == -(-before["M"]["suggested_qty"] // 4) * 4
    assert {s["decided_by"] for s in after.values()} == {f"user:{planner}"}
    detail = live_server.get(f"/api/v1/replenishment/suggestions/{before['S']['id']}").json()
    assert [(d["action"], d["quantity"]) for d in detail["decisions"]] == [
        ("edit", 16), ("approve", 16)]
    untouched = _suggestions(live_server, shop.skus["HOOD"])
    assert {s["status"] for s in untouched.values()} == {"proposed"}
