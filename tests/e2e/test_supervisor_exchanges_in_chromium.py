"""A supervisor acts on a backordered exchange whose replacement is still not in stock.

"Reserve again" is refused while no location has the size: the refusal is said on the
supervisor's page, beside Refund instead, with the sizes that are in stock, and the exchange
stays backordered.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.bench import DESK, _log_in
from tests.e2e.browser import screenshot_dir

pytestmark = pytest.mark.browser


@pytest.fixture
def backorder(live_server, unique):
    """A tee sold in M, returned for an L that no location has; an S in stock at WH."""
    tee, wh, order = unique("TEE"), unique("WH"), unique("SO")
    sold = date.today() - timedelta(days=3)
    for kind, text in [
        ("locations", f"code,name,type\n{wh},Returns dock,warehouse\n"),
        ("items", "sku,size,category,description,unit_cost,price\n"
                  f"{tee},S,tops,Black tee,8.50,25.00\n{tee},M,tops,Black tee,8.50,25.00\n"
                  f"{tee},L,tops,Black tee,8.50,25.00\n"),
        ("sales", "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n"
                  f"{sold},{order},1,{tee},M,1,25.00,online,{wh}\n"),
        ("stock", f"sku,size,location,on_hand\n{tee},S,{wh},3\n"),
    ]:
        answer = live_server.import_csv(kind, text)
        assert answer.status_code == 201, answer.text
    authorized = live_server.post("/api/v1/returns", json={
        "order_ref": order, "lines": [{"line_ref": "1", "quantity": 1, "reason": "too_small",
                                       "resolution": "exchange", "exchange_size": "L",
                                       "fallback": "backorder"}]})
    assert authorized.status_code == 201, authorized.text
    [exchange] = authorized.json()["exchanges"]
    assert exchange["status"] == "backordered"
    return {"tee": tee, "wh": wh, "rma": authorized.json()["rma"], "id": exchange["id"]}


def test_reserving_a_backorder_still_out_of_stock_is_refused_on_the_supervisor_page(
        live_server, browser, backorder, unique):
    from playwright.sync_api import expect

    context, page, _, refused = _log_in(live_server, browser, unique, DESK, "admin")
    try:
        page.goto(live_server.url("/supervisor"))
        row = page.locator("#exchanges-backordered tr", has_text=backorder["rma"])
        row.get_by_role("button", name="Reserve again").focus()
        page.keyboard.press("Enter")
        said = page.locator("#exchange-error")
        expect(said).to_contain_text(f"Exchange {backorder['id']}: {backorder['tee']} L x1 is "
                                     "still not available anywhere")
        expect(said).to_contain_text(f"In stock: size S (3 at {backorder['wh']})")
        # Still on the page with the other choice at hand.
        row = page.locator("#exchanges-backordered tr", has_text=backorder["rma"])
        expect(row.get_by_role("button", name="Refund instead")).to_be_visible()
        page.screenshot(path=str(screenshot_dir() / "supervisor-exchange-refused.png"),
                        full_page=True)
        assert refused == [], refused
    finally:
        context.close()
    answer = live_server.get(f"/api/v1/returns/{backorder['rma']}").json()
    assert [e["status"] for e in answer["exchanges"]] == ["backordered"]
