"""The returns heat map that does not cry wolf: counts in every cell, rates shrunk as the
forecast shrinks them, thin cells left uncoloured and ranked by what they really say, and a
window that ends where the data ends."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from returns_inventory.persistence.report_tables import returns_reports
from returns_inventory.services import report_requests
from returns_inventory.services.analytics import refresh_returns_reports
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale
from tests.integration.test_web_planner_pages import returned  # noqa: F401 - a fixture
from tests.integration.web_support import log_in


@pytest.fixture
def planner(client, uow_factory):
    return log_in(client, uow_factory, "planner")


@pytest.fixture
def one_of_one(uow_factory, returned):  # noqa: F811 - the fixture above
    """TEE-ONE M: 1 sold, 1 back — a raw 100 %."""
    policies = Policies.from_settings(Settings.load(env={}))
    item_id = add_item(uow_factory, "TEE-ONE", "M", category="tops")
    with uow_factory() as uow:
        warehouse = uow.catalogue.location_by_code("WH1").id
    add_sale(uow_factory, item_id, warehouse, order_ref="SO-ONE", quantity=1,
             sold_on=datetime.now(UTC).date() - timedelta(days=5))
    view = authorize_return(uow_factory, policies, order_ref="SO-ONE", actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=1,
                                                     reason="changed_mind")])
    receive_units(uow_factory, rma=view.rma, location="WH1", actor="dock",
                  lines=[{"line_no": 1, "quantity": 1}])


def _rows(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="code">([A-Z-]+)', html)


def test_one_unit_sold_and_returned_is_neither_coloured_nor_ranked_first(
        client, one_of_one, planner):
    html = client.get("/planner/returns?window=30&category=tops").get_data(as_text=True)
    cell = re.search(r'<td class="num (heat-[a-z0-9]+)" title="TEE-ONE M: 1 of 1 sold came '
                     r'back \(100 % raw\)">\s*([\d.]+) %.*?1/1', html, re.S)
    assert cell, "no TEE-ONE cell with its counts"
    assert cell.group(1) == "heat-thin"
    assert float(cell.group(2)) < 100  # shrunk toward its category
    heat = html.split('id="skus-title"')[0]
    assert _rows(heat).index("TEE-FIT") < _rows(heat).index("TEE-ONE")
    assert "Cells with fewer than 20 units sold are not coloured" in html


def test_the_window_ends_on_the_last_day_with_sales_and_a_date_can_be_picked(
        client, uow_factory, planner):
    warehouse = add_location(uow_factory, "WH9")
    item_id = add_item(uow_factory, "OLD-1", "M", category="archive")
    add_sale(uow_factory, item_id, warehouse, order_ref="SO-OLD", quantity=30,
             sold_on=date(2024, 1, 10))
    html = client.get("/planner/returns?category=archive").get_data(as_text=True)
    assert "Sales from 2023-10-13 to 2024-01-10 in archive" in html
    assert 'name="until" type="date" value="2024-01-10"' in html
    assert "OLD-1" in html
    picked = client.get("/planner/returns?category=archive&window=30&until=2023-06-30")
    assert "Sales from 2023-06-01 to 2023-06-30" in picked.get_data(as_text=True)
    assert "OLD-1" not in picked.get_data(as_text=True).split("Reasons and grades")[0] \
        .split("Return rate by SKU")[1]


def test_a_day_that_is_not_a_date_is_refused_in_words(client, planner):
    answer = client.get("/planner/returns?until=yesterday")
    assert answer.status_code == 422
    assert "Enter the last sale day as a date (YYYY-MM-DD)" in answer.get_data(as_text=True)


def test_a_category_longer_than_any_items_is_refused_in_words(client, planner):
    answer = client.get(f"/planner/returns?category={'x' * 600}")
    assert answer.status_code == 422
    assert "A category has at most 64 characters" in answer.get_data(as_text=True)


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"])
def test_a_day_outside_the_years_the_api_takes_is_refused_in_words(client, planner, day):
    # The window's first day is counted back from it: from year 1 that was a server error,
    # and far days set a report computing that the API would have refused to ask for.
    answer = client.get(f"/planner/returns?until={day}")
    assert answer.status_code == 422
    assert "between 1900-01-01 and 2999-12-31" in answer.get_data(as_text=True)


def test_the_weekly_chart_shows_a_chosen_skus_return_rate_and_reasons(
        client, returned, planner):  # noqa: F811 - the fixture above
    html = client.get("/planner/returns?window=30&category=tops&chart=TEE-FIT").get_data(
        as_text=True)
    chart = re.search(r'<section[^>]*id="sku-chart".*?</section>', html, re.S).group(0)
    assert 'aria-label="Return rate and reasons by week of sale for TEE-FIT"' in chart
    for legend in ("Units sold that week", "Return rate (%)", "Too small", "Changed mind"):
        assert legend in chart, legend
    assert "style=" not in chart and "<style" not in chart  # the CSP refuses inline styles


def test_the_weekly_figures_count_sales_and_returns_by_the_week_of_the_sale(
        uow_factory, returned):  # noqa: F811 - the fixture above
    from returns_inventory.services.sku_returns import weekly_returns

    today = datetime.now(UTC).date()
    weeks = weekly_returns(uow_factory, "TEE-FIT", since=today - timedelta(days=29),
                           until=today)
    sold = [w for w in weeks if w["units_sold"]]
    assert len(sold) == 1  # every sale was ten days ago
    assert (sold[0]["units_sold"], sold[0]["units_returned"]) == (60, 15)
    assert sold[0]["reasons"] == {"too_small": 13, "changed_mind": 2}
    assert sold[0]["return_rate"] == 15 / 60


def test_the_weekly_chart_kept_from_a_read_before_is_redrawn_once_more_comes_back(
        client, uow_factory, returned, planner):  # noqa: F811 - the fixture above
    def chart() -> str:
        html = client.get("/planner/returns?window=30&category=tops&chart=TEE-FIT").get_data(
            as_text=True)
        return re.search(r'<section[^>]*id="sku-chart".*?</section>', html, re.S).group(0)

    first = chart()
    assert chart() == first  # the same figures: the chart drawn for them
    policies = Policies.from_settings(Settings.load(env={}))
    view = authorize_return(uow_factory, policies, order_ref="SO-2", actor="erp",
                            lines=[ReturnLineRequest(line_ref="1", quantity=3,
                                                     reason="quality_defect")])
    receive_units(uow_factory, rma=view.rma, location="WH1", actor="dock",
                  lines=[{"line_no": 1, "quantity": 3}])
    again = chart()
    assert again != first and "Quality defect" in again and "Quality defect" not in first


def test_the_page_says_when_its_figures_were_computed_and_when_returns_came_in_since(
        client, uow_factory, one_of_one, planner):
    page = f"/planner/returns?window=30&until={datetime.now(UTC).date()}"
    first = client.get(page).get_data(as_text=True)
    assert re.search(r"Figures as computed at \d{4}-\d\d-\d\d \d\d:\d\d UTC, with every sale "
                     r"and return so far", first)
    with uow_factory() as uow:
        warehouse = uow.catalogue.location_by_code("WH1").id
    add_sale(uow_factory, add_item(uow_factory, "TEE-TWO", "M", category="tops"), warehouse,
             order_ref="SO-TWO", quantity=2, sold_on=datetime.now(UTC).date() - timedelta(days=1))
    later = client.get(page).get_data(as_text=True)
    assert "sales or returns have come in since" in later
    assert "TEE-TWO" not in later  # until the report is computed again


def test_a_window_nobody_asked_for_is_being_prepared_and_the_page_reloads_itself(
        client, uow_factory, planner, monkeypatch):
    warehouse = add_location(uow_factory, "WH9")
    item_id = add_item(uow_factory, "OLD-1", "M", category="archive")
    add_sale(uow_factory, item_id, warehouse, order_ref="SO-OLD", quantity=30,
             sold_on=date(2024, 1, 10))
    refresh_returns_reports(uow_factory, Policies.from_settings(Settings.load(env={})).returns)
    with uow_factory() as uow:  # as on a large catalogue: a report takes seconds
        uow.connection.execute(returns_reports.update().values(compute_ms=8000))
        uow.commit()
    asked: list = []
    monkeypatch.setattr(report_requests, "in_background", asked.append)
    answer = client.get("/planner/returns?window=30&until=2024-01-12")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 202 and answer.headers["Retry-After"] == "8"
    assert "The report of sales from 2023-12-14 to 2024-01-12 is being prepared" in html
    assert '<meta http-equiv="refresh" content="8">' in html
    assert "Return rate by SKU" not in html and len(asked) == 1
    asked.pop()()
    ready = client.get("/planner/returns?window=30&until=2024-01-12")
    assert ready.status_code == 200 and "Retry-After" not in ready.headers
    assert "OLD-1" in ready.get_data(as_text=True)
    assert 'http-equiv="refresh"' not in ready.get_data(as_text=True)
