"""The grading station in Debian's Chromium against the real server, by keyboard only.

Playwright drives the system browser at /usr/bin/chromium; it never downloads one. Where the
browser is missing the test is skipped with the reason, except in CI, where that is a failure.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import refused_by_csp, screenshot_dir

PASSWORD = "bench-three-password"
CSV = {"Content-Type": "text/csv"}

pytestmark = pytest.mark.browser


@pytest.fixture
def received_unit(live_server, unique):
    """One unit of a 'too small' return received at a warehouse through the API."""
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
            f"{date.today() - timedelta(days=3)},{shop['order']},1,{shop['sku']},M,1,25.00,"
            f"online,{shop['wh']}\n",
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
            "lines": [
                {"line_ref": "1", "quantity": 1, "reason": "too_small", "note": "Runs a size small"}
            ],
        },
    )
    assert authorized.status_code == 201, authorized.text
    received = live_server.post(
        f"/api/v1/returns/{authorized.json()['rma']}/receipts",
        json={"location": shop["wh"], "lines": [{"line_no": 1, "quantity": 1}]},
    )
    assert received.status_code == 201, received.text
    return {**shop, "unit": received.json()["units"][0]["unit_id"]}


def _at(path_prefix: str):
    # On the path only: "/login?next=/station" must not count as being at /station.
    return lambda url: urlsplit(url).path.startswith(path_prefix)


def _on_hand(live_server, shop, condition: str) -> int:
    rows = live_server.get(
        "/api/v1/stock", params={"sku": shop["sku"], "location": shop["wh"], "condition": condition}
    ).json()["data"]
    return sum(row["on_hand"] for row in rows)


def test_a_grader_grades_a_unit_B_with_the_keyboard_and_it_lands_in_second_quality(
    live_server, browser, received_unit, unique
):
    from playwright.sync_api import expect

    grader = unique("grace").lower()
    live_server.cli(
        "user",
        "create",
        "--username",
        grader,
        "--role",
        "grader",
        "--display-name",
        "Grace (bench 3)",
        "--password",
        PASSWORD,
    )
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    refused = refused_by_csp(page)
    # Other suites may share these two cores; a slow first answer is not a failure here.
    page.set_default_timeout(90_000)
    expect.set_options(timeout=90_000)
    try:
        page.goto(live_server.url("/station"))
        assert "/login" in page.url  # the station needs a login
        expect(page.locator("#username")).to_be_focused()
        page.keyboard.type(grader)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(_at("/station"))
        expect(page.locator("#code")).to_be_focused()  # ready for the scanner at once
        page.keyboard.type(received_unit["unit"])  # what a scanner does: type, then Enter
        page.keyboard.press("Enter")
        page.wait_for_url(_at(f"/station/units/{received_unit['unit']}"))
        expect(page.locator("input[name=grade][value=A]")).to_be_focused()
        assert page.get_by_text("Runs a size small").is_visible()
        assert page.get_by_text("Too small").is_visible()

        page.keyboard.press("b")
        assert page.locator("input[name=grade][value=B]").is_checked()
        page.keyboard.press("Tab")  # out of the grade group to the first defect
        page.keyboard.press("Space")
        assert page.locator("input[name=defects][value=stain]").is_checked()
        page.screenshot(path=str(screenshot_dir() / "grading-station.png"))
        page.keyboard.press("Enter")
        page.wait_for_url(_at("/station/graded/"))

        verdict = page.locator(".verdict")
        assert "Restock as second quality" in verdict.inner_text()
        assert "Outlet bin: second quality" in page.locator(".where").inner_text()
        assert "Stain" in verdict.inner_text()
        expect(page.locator("#code")).to_be_focused()  # ready for the next scan
        assert refused == [], refused  # every station page works under the CSP
    finally:
        context.close()
    assert _on_hand(live_server, received_unit, "quarantine") == 0
    assert _on_hand(live_server, received_unit, "second_quality") == 1
    graded = live_server.get(f"/api/v1/units/{received_unit['unit']}").json()
    assert graded["history"][0]["actor"] == f"user:{grader}"
