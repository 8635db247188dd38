"""The planner console's other pages: one suggestion with its chart, returns analytics, runs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial

import numpy as np
import pytest
from sqlalchemy import select

from returns_inventory.persistence.planning_tables import replenishment_suggestions
from returns_inventory.persistence.tables import sales_lines
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.forecast_runs import RunRequest, run_forecast
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.run_requests import run_next_requested
from returns_inventory.services.suggestion_decisions import decide_suggestion
from returns_inventory.settings import Settings
from returns_inventory.web.analytics_page import size_columns
from tests.factories import add_item, add_location, add_sale, app_on, weekly_sock_sales
from tests.integration.suggestion_data import build_board
from tests.integration.web_support import hidden, log_in

AS_OF = date(2026, 11, 23)


@pytest.fixture
def planner(client, uow_factory):
    return log_in(client, uow_factory, "planner")


@pytest.fixture
def forecast_run(uow_factory):
    """A real run on 60 weeks of generated sales of one tee in two sizes, 20 units on hand."""
    location_id = add_location(uow_factory, "WH1")
    rng = np.random.default_rng(11)
    rows = []
    for size, mean in (("M", 9), ("L", 4)):
        item_id = add_item(uow_factory, "TEE-NAVY", size, case_pack=6, min_order_qty=0,
                           lead_time_days=14)
        rows += [dict(order_ref=f"SO-{size}-{week}", line_ref="1", item_id=item_id,
                      location_id=location_id, quantity=int(rng.poisson(mean)) or 1,
                      unit_price=Decimal("20"), channel="online",
                      sold_on=AS_OF - timedelta(weeks=60 - week))
                 for week in range(60)]
    with uow_factory() as uow:
        uow.connection.execute(sales_lines.insert(), rows)
        uow.commit()
    return run_forecast(uow_factory, Settings.load(env={}),
                        RunRequest(as_of=AS_OF, actor="test"))


def _medium(db, run_id):
    return db.connection.execute(
        select(replenishment_suggestions.c.id).where(
            replenishment_suggestions.c.run_id == run_id)
        .order_by(replenishment_suggestions.c.suggested_qty.desc())).scalars().first()


def test_a_suggestion_page_draws_its_chart_and_explains_every_term(
        client, db, uow_factory, forecast_run, planner):
    from returns_inventory.services.suggestions import get_suggestion

    sid = _medium(db, forecast_run["id"])
    response = client.get(f"/planner/suggestions/{sid}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in svg and "<title>Weekly sales, forecast and projected stock" in svg
    assert 'aria-describedby="suggestion-chart-desc"' in svg and "forecast over the next" in svg
    # Lines of data, not an empty frame: the sales step line and both stock projections.
    assert svg.count('stroke-linejoin="round"') >= 4
    for legend in ("Units sold per week", "80% forecast interval", "Forecast (",
                   "Restockable returns expected back", "Projected stock with the order",
                   "Projected stock without the order"):
        assert legend in svg, legend
    for words in ("Units customers are forecast to buy over those weeks.",
                  "On hand minus reserved plus on order",
                  "What we would order if we ignored returns",
                  "The model chosen and why", "lowest holdout MAE",
                  "Returns estimates", "No planner has decided on this suggestion yet."):
        assert words in html, words
    assert "order of" in html and "arriving in the week of" in html  # lead time from terms
    # The CSP refuses inline styles: the chart's colours are SVG attributes instead.
    assert "style=" not in svg and "<style" not in svg
    assert 'stroke="#1558b0"' in svg and 'stroke-linejoin="round"' in svg
    # The same figures as text, for a screen reader or a keyboard: one row a week.
    figures = html[html.index('class="chart-figures"'):]
    figures = figures[:figures.index("</details>")]
    shown = get_suggestion(uow_factory, sid)
    weeks = {h["week"] for h in shown["history"]} | {
        w["week"] for w in shown["forecast"]["weeks"]}
    assert figures.count('<th scope="row">') == len(weeks)
    first = shown["forecast"]["weeks"][0]
    assert f"{first['lower']:.1f} to {first['upper']:.1f}" in figures


def test_the_projection_follows_the_terms_week_by_week(client, db, uow_factory, forecast_run):
    from returns_inventory.services.suggestions import get_suggestion
    from returns_inventory.web.planner_charts import project_stock

    shown = get_suggestion(uow_factory, _medium(db, forecast_run["id"]))
    terms = {t["term"]: t["value"] for t in shown["terms"]}
    projection = project_stock(shown, review_weeks=1)
    forecast = [w["forecast"] for w in shown["forecast"]["weeks"]]
    back = [w["units"] for w in shown["returns"]["expected_per_week"]]
    assert terms["protection_weeks"] == 3  # 14 days of lead time + 1 week of review
    assert projection.arrival_week == 2
    expected = terms["inventory_position"] - forecast[0] + back[0]
    assert projection.without_order[0] == pytest.approx(expected, abs=0.01)
    gap = [w - wo for w, wo in zip(projection.with_order, projection.without_order,
                                    strict=True)]
    # Both lines are rounded to the cent, so their difference carries float noise.
    assert gap[:2] == [0, 0]
    assert gap[2:] == pytest.approx([shown["suggested_qty"]] * len(gap[2:]), abs=1e-9)


def test_deciding_on_the_suggestion_page_returns_to_it_with_the_history(
        client, uow_factory, planner):
    board = build_board(uow_factory)
    sid = board.ids["JEAN-IND/32"]
    html = client.get(f"/planner/suggestions/{sid}").get_data(as_text=True)
    assert "Forecast (" in html[html.index("<svg"):]  # the hand-made forecast draws too
    response = client.post(f"/planner/suggestions/{sid}/decision", data={
        "csrf_token": hidden(html, "csrf_token"), "version": hidden(html, "version"),
        "back": f"/planner/suggestions/{sid}", "action": "edit", "quantity": "10",
        "comment": "store opening"})
    assert response.headers["Location"] == f"/planner/suggestions/{sid}#s-{sid}"
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "10 units rounded up to 12 (3 cases of 4)" in after
    assert "store opening" in after and ">planner1<" in after and ">edit<" in after
    decide_suggestion(uow_factory, sid, action="approve", actor="user:olga",
                      expected_version=2)
    stale = client.post(f"/planner/suggestions/{sid}/decision", data={
        "csrf_token": hidden(after, "csrf_token"), "version": "2",
        "back": f"/planner/suggestions/{sid}", "action": "reject"})
    assert stale.status_code == 409
    assert "already approved by olga at" in stale.get_data(as_text=True)


@pytest.fixture
def returned(uow_factory):
    """TEE-FIT sizes S, M, L sold 20 each; 12 of S came back too small: a fit flag."""
    policies = Policies.from_settings(Settings.load(env={}))
    warehouse = add_location(uow_factory, "WH1")
    sold_on = datetime.now(UTC).date() - timedelta(days=10)
    for n, (sku, size) in enumerate([("TEE-FIT", "S"), ("TEE-FIT", "M"), ("TEE-FIT", "L"),
                                     ("TEE-OK", "M")]):
        item_id = add_item(uow_factory, sku, size, category="tops")
        add_sale(uow_factory, item_id, warehouse, order_ref=f"SO-{n}", quantity=20,
                 sold_on=sold_on)
    for order_ref, units, reason in [("SO-0", 12, "too_small"), ("SO-1", 1, "too_small"),
                                     ("SO-2", 2, "changed_mind")]:
        view = authorize_return(uow_factory, policies, order_ref=order_ref, actor="erp",
                                lines=[ReturnLineRequest(line_ref="1", quantity=units,
                                                         reason=reason)])
        receive_units(uow_factory, rma=view.rma, location="WH1", actor="dock",
                      lines=[{"line_no": 1, "quantity": units}])


def test_the_returns_page_shows_the_heat_map_reasons_and_fit_flags(client, returned, planner):
    response = client.get("/planner/returns?window=30&category=tops")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Return rate by SKU and size" in html
    # The worst rate gets the darkest colour (a class: the CSP refuses style attributes).
    assert 'class="num heat-20" title="TEE-FIT S: 12 of 20 sold came back (60 % raw)"' in html
    assert re.search(r'heat-20" title="TEE-FIT S[^>]*>\s*\d+(\.\d)? % ▲<span class="sub counts">'
                     r'12/20</span>', html)  # the darkest cell, flagged as running small
    assert "style=" not in html
    assert "TEE-FIT size S runs small" in html
    assert "Too small" in html and "Changed mind" in html
    assert client.get("/planner/returns?category=shoes").status_code == 200


def test_the_runs_page_lists_runs_and_a_run_shows_its_failures(client, uow_factory, planner):
    with uow_factory() as uow:
        run_id = uow.planning.start_run(as_of=AS_OF, executor="local", workers=1,
                                        trigger="schedule", actor="job:nightly")
        uow.planning.finish_run(run_id, status="succeeded", series_count=40,
                                suggestion_count=31, fallback_count=2, failure_count=2,
                                failures=[{"unique_id": "TEE-ODD|XS",
                                           "reason": "fell back to a simpler model"}] * 2,
                                figures={"phases": {"read_s": 0.5, "total_s": 2.25},
                                         "methods": {"ses": 30, "croston": 10}})
        uow.commit()
    html = client.get("/planner/runs").get_data(as_text=True)
    for shown in (f"Run {run_id}", "succeeded", "2026-11-23", "schedule", ">40<", ">31<",
                  "Run now"):
        assert shown in html, shown
    detail = client.get(f"/planner/runs/{run_id}").get_data(as_text=True)
    for shown in ("TEE-ODD", "XS", "fell back to a simpler model", "2.25 s", "ses: 30"):
        assert shown in detail, shown
    assert client.get("/planner/runs/999").status_code == 404


@pytest.fixture
def committing_client(settings, committing_db):
    """The scheduler runs what the page requests, so both need a database that commits."""
    app = app_on(settings, committing_db)
    factory = partial(UnitOfWork, committing_db)
    weekly_sock_sales(factory, AS_OF - timedelta(weeks=1))
    client = app.test_client()
    log_in(client, factory, "planner")
    return client


def test_run_now_asks_the_scheduler_and_the_page_follows_the_run_to_success(
        committing_client, settings, committing_db):
    client = committing_client
    page = client.get("/planner/runs").get_data(as_text=True)
    response = client.post("/planner/runs", data={
        "csrf_token": hidden(page, "csrf_token"), "as_of": AS_OF.isoformat()})
    assert response.status_code == 303
    listed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "requested for 2026-11-23" in listed
    assert 'class="pill requested"' in listed and "waiting for the scheduler" in listed
    assert 'http-equiv="refresh"' in listed  # the page follows the run
    ran = run_next_requested(partial(UnitOfWork, committing_db), settings, runner="sched:7")
    assert ran["status"] == "succeeded"
    detail = client.get(f"/planner/runs/{ran['id']}").get_data(as_text=True)
    assert "sched:7 · last heartbeat" in detail
    listed = client.get("/planner/runs").get_data(as_text=True)
    assert 'class="pill succeeded"' in listed and "web" in listed
    assert "planner1" in listed and 'http-equiv="refresh"' not in listed
    assert "Discard" not in listed  # for admins only


def test_an_admin_discards_a_run_from_the_runs_page(client, uow_factory):
    board = build_board(uow_factory)
    log_in(client, uow_factory, "admin")
    page = client.get("/planner/runs").get_data(as_text=True)
    assert f'aria-label="Discard run {board.run_id}"' in page
    response = client.post(f"/planner/runs/{board.run_id}/discard",
                           data={"csrf_token": hidden(page, "csrf_token")})
    assert response.status_code == 303
    listed = client.get("/planner/runs").get_data(as_text=True)
    assert f"Run {board.run_id} discarded" in listed and 'class="pill discarded"' in listed
    console = client.get("/planner").get_data(as_text=True)
    assert f"Forecast run {board.old_run_id} as of" in console
    assert f'<option value="{board.run_id}"' not in console


def test_the_heat_map_columns_follow_the_size_order_whichever_sku_has_most_sizes():
    rows = [{"sizes": [{"size": s} for s in ("M", "L", "XL", "XXL")]},
            {"sizes": [{"size": s} for s in ("XS", "S", "M")]}]
    order = ("XXS", "XS", "S", "M", "L", "XL", "XXL")
    assert size_columns(rows, order) == ["XS", "S", "M", "L", "XL", "XXL"]


def test_the_suggestion_page_shows_the_returns_pipeline_target_and_policy(
        client, db, uow_factory, planner):
    # A category on a 97 % fill-rate target (config), 20 weeks of 9 a week of one tee.
    location_id = add_location(uow_factory, "WH1")
    item_id = add_item(uow_factory, "TEE-FILL", "M", case_pack=1, min_order_qty=0,
                       lead_time_days=14)
    rows = [dict(order_ref=f"SO-F-{week}", line_ref="1", item_id=item_id,
                 location_id=location_id, quantity=9, unit_price=Decimal("20"),
                 channel="online", sold_on=AS_OF - timedelta(weeks=20 - week))
            for week in range(20)]
    with uow_factory() as uow:
        uow.connection.execute(sales_lines.insert(), rows)
        uow.commit()
    settings = Settings.load(env={})
    doc = dict(settings.policies["forecasting"])
    doc["service_levels"] = {"default": 0.97}
    doc["service_targets"] = {"default": "fill"}
    settings = settings.replace(policies={**settings.policies, "forecasting": doc})
    run = run_forecast(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    sid = _medium(db, run["id"])
    from returns_inventory.services.suggestions import get_suggestion

    shown = get_suggestion(uow_factory, sid)
    pipeline = shown["pipeline"]
    # the last 8 weeks (the return window) of 9 a week: none back yet, all still out
    assert pipeline["units_still_out"] == 72
    assert pipeline["service_target"] == "fill" and pipeline["policy"] == "order_up_to"
    assert len(pipeline["by_week"]) == 3  # lead time 2 weeks + review 1
    html = client.get(f"/planner/suggestions/{sid}").get_data(as_text=True)
    section = html[html.index('id="returns-pipeline"'):html.index('id="terms-title"')]
    for words in ("Sold and still out", "72 units sold within the return window",
                  "fill rate 97% of demand served from stock", "order-up-to, reviewed every week",
                  "Restockable units expected back from sales already made, week by week"):
        assert words in section, words
    assert "service level target fill rate 97%" in shown["explanation"]
