"""A returns window nobody asked for, on a catalogue whose reports take seconds, in Debian's
Chromium against the real server and scheduler: the page says the report is being prepared,
reloads itself (a meta refresh: the CSP allows no inline script), and shows the heat map once
the server's background thread has stored the report."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.browser import page_for_new_user, screenshot_dir

PASSWORD = "returns-desk-password"
CSV = {"Content-Type": "text/csv"}

pytestmark = pytest.mark.browser


def _import(server, kind: str, body: str) -> None:
    response = server.post(f"/api/v1/imports/{kind}", data=body.encode(),
                           headers=server.headers(**CSV))
    assert response.status_code == 201, response.text


def test_a_window_nobody_asked_for_is_prepared_and_the_page_shows_it_when_ready(
        live_server, browser, unique):
    from playwright.sync_api import expect

    sku, warehouse = unique("TUNIC"), unique("WH")
    category = f"tunics-{sku.split('-')[1].lower()}"
    sold_on = date.today() - timedelta(days=20)
    _import(live_server, "locations", f"code,name,type\n{warehouse},Warehouse,warehouse\n")
    _import(live_server, "items", "sku,size,category,unit_cost,price\n"
            f"{sku},M,{category},9.00,30.00\n{sku},L,{category},9.00,30.00\n")
    _import(live_server, "sales",
            "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n"
            f"{sold_on},{sku}-1,1,{sku},M,30,30.00,online,{warehouse}\n"
            f"{sold_on},{sku}-2,1,{sku},L,30,30.00,online,{warehouse}\n")
    live_server.cli("db", "refresh-reports")  # the default windows, as the scheduler's job
    engine = create_engine(live_server.database_url)
    with engine.begin() as conn:  # as on a large catalogue: a report took 2 s to compute
        took = dict(conn.execute(text(
            "SELECT id, compute_ms FROM returns_reports WHERE family = ''")).all())
        assert took
        conn.execute(text("UPDATE returns_reports SET compute_ms = 2000 WHERE family = ''"))
    planner = unique("rp").lower()
    context, page, refused = page_for_new_user(
        browser, live_server, planner, "planner", "Rae (returns)", PASSWORD)
    try:
        page.goto(live_server.url("/planner/returns"))
        page.fill("#username", planner)
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        until = sold_on + timedelta(days=3)  # a day nobody picked before
        page.goto(live_server.url(
            f"/planner/returns?window=30&category={category}&until={until}"))
        expect(page.locator("#report-computing")).to_contain_text("is being prepared")
        page.screenshot(path=str(screenshot_dir() / "planner-returns-preparing.png"))
        # No click: the page reloads itself until the report is stored.
        expect(page.locator("table.heat")).to_contain_text(sku)
        expect(page.locator("#report-computing")).to_have_count(0)
        assert refused == [], refused
    finally:
        context.close()
        with engine.begin() as conn:  # other tests' reports compute as they did
            for report_id, ms in took.items():
                conn.execute(text("UPDATE returns_reports SET compute_ms = :ms WHERE id = :id"),
                             {"ms": ms, "id": report_id})
        engine.dispose()
