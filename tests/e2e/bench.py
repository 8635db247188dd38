"""What the returns bench's browser tests share: a parcel to receive (the `parcel` fixture,
registered by conftest), logging in by keyboard, scanning at a wedge scanner's pace, receiving
a line through the API and opening a unit at the station."""

from __future__ import annotations

import random
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest

from tests.e2e.browser import page_for_new_user

PASSWORD = "bench-eighteen-password"
SCANNER_DELAY_MS = 5
DESK = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESK, TABLET], ids=["desk", "tablet"])

def _gtin() -> str:
    """A random GTIN-13 with its check digit (the import verifies it)."""
    digits = [random.randrange(10) for _ in range(12)]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


@pytest.fixture
def parcel(live_server, unique):
    """An authorized return of 2 tees (too small) and 1 coat (quality defect, cost 180.00),
    nothing received yet; a sock in the item master that is not on it."""
    shop = {"tee": unique("TEE"), "coat": unique("COAT"), "sock": unique("SOCK"),
            "wh": unique("WH"), "order": unique("SO"), "sock_gtin": _gtin()}
    sold = date.today() - timedelta(days=3)
    for kind, text in [
        ("locations", f"code,name,type\n{shop['wh']},Returns dock,warehouse\n"),
        ("items", "sku,size,gtin,category,description,unit_cost,price\n"
                  f"{shop['tee']},M,,tops,Black tee,8.50,25.00\n"
                  f"{shop['coat']},L,,outerwear,Grey wool coat,180.00,390.00\n"
                  f"{shop['sock']},42,{shop['sock_gtin']},socks,Red sock,1.50,6.00\n"),
        ("sales", "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n"
                  f"{sold},{shop['order']},1,{shop['tee']},M,2,25.00,online,{shop['wh']}\n"
                  f"{sold},{shop['order']},2,{shop['coat']},L,1,390.00,online,{shop['wh']}\n"),
    ]:
        answer = live_server.import_csv(kind, text)
        assert answer.status_code == 201, answer.text
    authorized = live_server.post("/api/v1/returns", json={
        "order_ref": shop["order"], "customer_note": "Sorry, wrong sizes",
        "lines": [{"line_ref": "1", "quantity": 2, "reason": "too_small",
                   "note": "Runs a size small"},
                  {"line_ref": "2", "quantity": 1, "reason": "quality_defect",
                   "note": "Moth hole on the sleeve"}]})
    assert authorized.status_code == 201, authorized.text
    return {**shop, "rma": authorized.json()["rma"]}


def _at(path_prefix: str):
    return lambda url: urlsplit(url).path.startswith(path_prefix)


def _log_in(live_server, browser, unique, viewport, role: str):
    from playwright.sync_api import expect

    username = unique(role).lower()
    context, page, refused = page_for_new_user(
        browser, live_server, username, role, f"{role.title()} (bench 18)", PASSWORD,
        viewport=viewport)
    page.goto(live_server.url("/login"))
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page, username, refused


def _scan(page, text: str) -> None:
    page.keyboard.type(text, delay=SCANNER_DELAY_MS)
    page.keyboard.press("Enter")


def _receive(live_server, parcel, line_no: int, quantity: int = 1) -> list[str]:
    """Units of one line of the parcel received through the API: their ids."""
    received = live_server.post(f"/api/v1/returns/{parcel['rma']}/receipts", json={
        "location": parcel["wh"], "lines": [{"line_no": line_no, "quantity": quantity}]})
    assert received.status_code == 201, received.text
    return [u["unit_id"] for u in received.json()["units"]]


def _open_at_station(live_server, page, unit: str) -> None:
    """The grader at the station scans the unit's label and lands on its page."""
    page.goto(live_server.url("/station"))
    page.locator("h1").click()
    _scan(page, unit)
    page.wait_for_url(_at(f"/station/units/{unit}"))


def _scan_as_a_busy_tablet_passes_it_on(page, text: str, held: int) -> None:
    """A real wedge scanner presses Shift for each capital, and a busy tablet may hand one key
    on late: key `held` comes 150 ms after the one before it."""
    for i, char in enumerate(text):
        if i == held:
            page.wait_for_timeout(150)
        if char.isupper():
            page.keyboard.down("Shift")
            page.keyboard.press(char)
            page.keyboard.up("Shift")
        else:
            page.keyboard.press(char)
    page.keyboard.press("Enter")
