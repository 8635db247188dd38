"""Paging through a run's suggestions by cursor, the bounded count, and the location filter
as planners type it."""

from __future__ import annotations

import base64
import json

import pytest

from returns_inventory.domain.suggestion_filters import SORTABLE
from returns_inventory.services import suggestions as service
from tests.integration.web_support import log_in

URL = "/api/v1/replenishment/suggestions"


def _ids(answer) -> list[int]:
    assert answer.status_code == 200, answer.json
    return [row["id"] for row in answer.json["data"]]


@pytest.mark.parametrize("sort", ["", "-value", "previous_qty", "-previous_qty",
                                  "supplier,-sku", "change,-sku", "-location,value",
                                  # every column, so a cursor's values pass its kinds check
                                  *SORTABLE, *(f"-{name}" for name in SORTABLE)])
def test_following_the_cursor_lists_every_suggestion_once_in_the_lists_order(
        client, auth, board, sort):
    planner = auth("planner")
    whole = _ids(client.get(f"{URL}?sort={sort}", headers=planner))
    assert len(whole) == 5
    seen, cursor = [], None
    while True:
        after = f"&after={cursor}" if cursor else ""
        answer = client.get(f"{URL}?sort={sort}&limit=2{after}", headers=planner)
        seen += _ids(answer)
        cursor = answer.json["page"]["next_cursor"]
        if cursor is None:
            break
    assert seen == whole


def test_empty_values_sort_last_either_way(client, auth, board):
    planner = auth("planner")
    for sort in ("previous_qty", "-previous_qty"):
        rows = client.get(f"{URL}?sort={sort}", headers=planner).json["data"]
        assert rows[-1]["previous_qty"] is None  # TEE-BLK/L: no previous run's number


def test_a_garbled_cursor_or_one_from_another_sort_is_refused_naming_after(
        client, auth, board):
    planner = auth("planner")
    cursor = client.get(f"{URL}?sort=-value&limit=2", headers=planner).json["page"][
        "next_cursor"]
    for query in (f"sort=sku&after={cursor}", "after=not-a-cursor", "after=e30"):
        answer = client.get(f"{URL}?{query}", headers=planner)
        assert answer.status_code == 422, query
        assert answer.json["errors"][0]["field"] == "after"


@pytest.mark.parametrize("location", ["wh1", "Wh1", "WH1"])
def test_the_location_filter_finds_the_code_whatever_the_case(client, auth, board, location):
    answer = client.get(f"{URL}?location={location}&search=tee", headers=auth("planner"))
    assert sorted(f"{r['sku']}/{r['size']}/{r['location']}" for r in answer.json["data"]) == [
        "TEE-BLK/L/WH1", "TEE-BLK/M/WH1", "TEE-BLK/S/WH1"]


def test_the_planner_table_finds_the_location_whatever_the_case(client, uow_factory, board):
    log_in(client, uow_factory, "planner")
    html = client.get("/planner?location=wh2&search=sock").get_data(as_text=True)
    assert f'id="s-{board.ids["SOCK-WHT/OS"]}"' in html
    assert "<strong>1</strong> suggestion match" in html


def test_past_the_cap_the_count_says_at_least_and_the_next_page_is_still_offered(
        client, auth, uow_factory, board, monkeypatch):
    monkeypatch.setattr(service, "COUNT_CAP", 3)
    page = client.get(f"{URL}?limit=2", headers=auth("planner")).json["page"]
    assert (page["total"], page["total_exact"]) == (3, False)
    exact = client.get(f"{URL}?sku=TEE-BLK", headers=auth("planner")).json["page"]
    assert (exact["total"], exact["total_exact"]) == (3, True)
    log_in(client, uow_factory, "planner")
    monkeypatch.setattr("returns_inventory.web.planner_filters.PAGE_SIZE", 2)
    monkeypatch.setattr("returns_inventory.web.planner.PAGE_SIZE", 2)
    html = client.get("/planner?page=2").get_data(as_text=True)
    assert "<strong>3+</strong> suggestions match" in html
    assert 'rel="next"' in html  # page 3 holds the fifth, past the count


@pytest.mark.parametrize(("sort", "values"), [
    ("", [10**20]), ("", ["x"]), ("-value", [{"d": "NaN"}, 1]), ("-value", ["x", 1]),
    ("sku", ["TEE\x00", 1]),
])
def test_a_cursor_edited_by_hand_is_refused_naming_after_not_a_failure(
        client, auth, board, sort, values):
    text = json.dumps({"s": sort, "v": values})
    cursor = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    answer = client.get(f"{URL}?sort={sort}&after={cursor}", headers=auth("planner"))
    assert answer.status_code == 422, answer.json
    assert answer.json["errors"][0]["field"] == "after"
