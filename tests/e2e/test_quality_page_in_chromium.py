"""The quality page in Debian's Chromium against the real server, with data loaded by the API.

Four suppliers of one category sell the same every week; one of them has a bad batch whose
units come back with broken zips and a manufacturing defect. The page must flag that one
supplier, draw its monthly chart, and list the claim gathered for it. The README's screenshot
of the page is taken here.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.browser import page_for_new_user, screenshot_dir

PASSWORD = "quality-desk-password"
VIEWPORT = {"width": 1280, "height": 800}
CSV = {"Content-Type": "text/csv"}
WEEKS = 20
PER_WEEK = 20

pytestmark = pytest.mark.browser


def _import(server, kind: str, text: str) -> None:
    response = server.post(f"/api/v1/imports/{kind}", data=text.encode(),
                           headers=server.headers(**CSV))
    assert response.status_code == 201, response.text


def _build(server, unique) -> dict:
    """Four suppliers, one SKU each; the last four weeks' orders come back for quality: six
    units of each of BAD's orders (graded C with a manufacturing defect: sent back to it), one
    unit of one other supplier's order now and then (graded A)."""
    tag = unique("x").split("-")[1].lower()
    category, warehouse = f"outer-{tag}", unique("WH")
    suppliers = {"bad": unique("BADCO"), **{f"ok{n}": unique(f"OKCO{n}") for n in range(3)}}
    skus = {key: unique("PARKA") for key in suppliers}
    _import(server, "locations", f"code,name,type\n{warehouse},Central warehouse,warehouse\n")
    header = "sku,size,category,unit_cost,price,supplier,factory,season\n"
    _import(server, "items", header + "".join(
        f"{skus[key]},M,{category},31.00,89.00,{supplier},F-{key.upper()},AW26\n"
        for key, supplier in suppliers.items()))
    today = date.today()
    _import(server, "sales",
            "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n" + "".join(
                f"{today - timedelta(weeks=week)},{skus[key]}-W{week},1,{skus[key]},M,"
                f"{PER_WEEK},89.00,online,{warehouse}\n"
                for key in suppliers for week in range(1, WEEKS + 1)))
    for key in suppliers:
        for week in (1, 2, 3, 4):
            back = 6 if key == "bad" else int(key == f"ok{week % 3}")
            if not back:
                continue
            rma = server.post("/api/v1/returns", json={
                "order_ref": f"{skus[key]}-W{week}",
                "lines": [{"line_ref": "1", "quantity": back, "reason": "quality_defect"}]})
            assert rma.status_code == 201, rma.text
            received = server.post(f"/api/v1/returns/{rma.json()['rma']}/receipts", json={
                "location": warehouse, "lines": [{"line_no": 1, "quantity": back}]})
            assert received.status_code == 201, received.text
            grade = ({"grade": "C", "defects": ["manufacturing_defect", "broken_zipper"]}
                     if key == "bad" else {"grade": "A"})
            for unit in received.json()["units"]:
                graded = server.post(f"/api/v1/units/{unit['unit_id']}/grade", json=grade)
                assert graded.status_code == 200, graded.text
    gathered = server.post("/api/v1/claims/gather", json={"supplier": suppliers["bad"]})
    assert gathered.status_code == 200, gathered.text
    return {"category": category, "suppliers": suppliers, "claim": gathered.json()["data"][0]}


def test_a_planner_sees_the_bad_supplier_flagged_charted_and_its_claim(
        live_server, browser, unique):
    from playwright.sync_api import expect

    shop = _build(live_server, unique)
    bad = shop["suppliers"]["bad"]
    assert shop["claim"]["units"] == 24 and shop["claim"]["value"] == "744.00"
    planner = unique("qa").lower()
    context, page, refused = page_for_new_user(
        browser, live_server, planner, "planner", "Quinn (quality)", PASSWORD, viewport=VIEWPORT)
    try:
        page.goto(live_server.url("/planner/quality"))
        page.fill("#username", planner)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Quality").click()
        page.select_option("#f-window", "180")
        page.fill("#f-category", shop["category"])
        page.get_by_role("button", name="Show").click()
        expect(page.locator(".flags")).to_contain_text(f"{bad}: 6.0% of 400")
        flagged = page.locator("table.scorecards tbody tr").first
        expect(flagged).to_contain_text(bad)
        expect(flagged.locator(".flag")).to_have_text("quality")
        for key in ("ok0", "ok1", "ok2"):
            row = page.locator("table.scorecards tbody tr", has_text=shop["suppliers"][key])
            expect(row.locator(".flag")).to_have_count(0)
        chart = page.locator(".chart svg")
        expect(chart).to_be_visible()
        assert f"{bad}  (flagged)" in chart.inner_html()
        claims = page.locator("section[aria-labelledby=claims-title]")
        expect(claims).to_contain_text(bad)
        expect(claims).to_contain_text("744.00")
        pdf = claims.get_by_role("link", name="PDF").first.get_attribute("href")
        assert pdf.endswith("?format=pdf")
        page.screenshot(path=str(screenshot_dir() / "planner-quality.png"), full_page=True)

        # On a tablet, with the keyboard: send the claim, then record the supplier's credit.
        page.set_viewport_size({"width": 820, "height": 1180})
        claim_id = shop["claim"]["id"]
        row = claims.locator("tr", has_text=bad)
        row.get_by_role("button", name="Mark sent").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text(f"Claim {claim_id} sent")
        row = claims.locator("tr", has_text=bad)
        row.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot_dir() / "planner-quality-claim-tablet.png"))
        # A credit typed larger than the claim comes back beside its field, as typed, with
        # the focus on it: the planner corrects the figure, nothing is typed twice.
        row.get_by_label("Credited").fill("7440.00")
        page.keyboard.press("Tab")
        page.keyboard.type("CN-4471")
        page.keyboard.press("Enter")
        row = claims.locator("tr", has_text=bad)
        credited_field = row.get_by_label("Credited")
        expect(row.locator(".field-error")).to_have_text(
            "A credit must be more than 0 and at most the claimed 744.00")
        expect(credited_field).to_have_value("7440.00")
        expect(credited_field).to_be_focused()
        expect(row.get_by_label("ERP reference")).to_have_value("CN-4471")
        page.keyboard.press("Control+A")
        page.keyboard.type("700.00")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text(
            f"Claim {claim_id} credited 700.00 of 744.00")
        expect(claims.locator("tr", has_text=bad)).to_have_count(0)
        credited = live_server.get(f"/api/v1/claims/{claim_id}").json()
        assert (credited["status"], credited["erp_reference"]) == ("credited", "CN-4471")
        assert refused == [], refused
    finally:
        context.close()
    assert (screenshot_dir() / "planner-quality.png").stat().st_size < 400_000
