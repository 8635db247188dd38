"""Quality scorecards over HTTP, on data built through the import, returns and grading services."""

from __future__ import annotations

import csv
import io

import pytest

from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings
from tests.integration.quality_data import SINCE, SOLD_ON, TODAY, build

URL = "/api/v1/analytics/quality"
WINDOW = f"since={SINCE}&until={TODAY}"


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def catalogue(uow_factory, policies):
    return build(uow_factory, policies)


def _group(body, key):
    return next(row for row in body["groups"] if row["group"] == key)


def test_the_supplier_with_a_bad_batch_is_flagged_against_its_category_and_no_other(
        client, auth, catalogue):
    answer = client.get(f"{URL}?by=supplier&{WINDOW}", headers=auth("planner"))
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["flagged"] == ["BADCO"]
    assert body["groups"][0]["group"] == "BADCO"  # flagged first
    bad = _group(body, "BADCO")
    assert (bad["units_sold"], bad["quality_returns"], bad["quality_return_rate"]) == (100, 20, 0.2)
    assert bad["interval"]["low"] < 0.2 < bad["interval"]["high"]
    assert bad["category_rate"] == round(5 / 201, 4)  # the other tops: ACME 3 + CLEANCO 2
    [test] = bad["tests"]
    assert test["category"] == "tops" and test["q_value"] < 0.05 and test["flagged"]
    # ACME sells tops and shoes: one test in each, neither standing out.
    acme = _group(body, "ACME")
    assert [(t["category"], t["units_sold"], t["quality_returns"], t["flagged"])
            for t in acme["tests"]] == [("shoes", 50, 6, False), ("tops", 101, 3, False)]
    assert acme["units_sold"] == 151 and acme["quality_returns"] == 9  # too_small is not quality


def test_a_scorecard_has_the_defect_mix_yield_write_offs_and_the_previous_period(
        client, auth, catalogue):
    bad = _group(client.get(f"{URL}?by=supplier&{WINDOW}", headers=auth("planner")).json, "BADCO")
    assert bad["defects"] == {"broken_zipper": 12, "manufacturing_defect": 8}
    assert bad["graded"] == 20 and bad["restock_yield"] == 0.4  # 8 of 20 graded A
    assert (bad["written_off_units"], bad["write_off_value"]) == (4, "36.00")
    assert bad["previous"] == {"units_sold": 100, "quality_returns": 3,
                               "quality_return_rate": 0.03}
    assert bad["change"] == 0.17
    assert bad["claims"]["not_sent"] == "72.00"  # 8 units at 9.00, sent back, not yet claimed
    assert bad["months"] == [{"month": SOLD_ON.strftime("%Y-%m"), "units_sold": 100,
                              "quality_returns": 20, "quality_return_rate": 0.2}]


def test_scorecards_group_by_factory_season_style_and_fabric_from_the_item_master(
        client, auth, catalogue):
    def groups(by):
        body = client.get(f"{URL}?by={by}&{WINDOW}", headers=auth("planner")).json
        return {row["group"]: row["units_sold"] for row in body["groups"]}

    assert groups("factory") == {"F-PORTO": 251, "F-DHAKA": 100, "(unknown)": 50}
    assert groups("season") == {"AW26": 301, "SS26": 100}
    assert groups("fabric") == {"cotton jersey": 201, "linen": 100, "leather": 100}
    assert groups("style")["TEE-B"] == 100
    shoes = client.get(f"{URL}?by=supplier&category=shoes&{WINDOW}", headers=auth("planner")).json
    assert {row["group"] for row in shoes["groups"]} == {"ACME", "SOLECO"}


def test_scorecards_come_as_csv_for_a_spreadsheet(client, auth, catalogue):
    answer = client.get(f"{URL}?by=supplier&format=csv&{WINDOW}", headers=auth("planner"))
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0]["group"] == "BADCO" and rows[0]["flagged"] == "True"
    assert rows[0]["top_defects"] == "broken_zipper 12; manufacturing_defect 8"
    assert rows[0]["claims_not_sent"] == "72.00"


def test_an_unknown_grouping_or_a_backwards_window_is_a_problem_naming_the_field(client, auth):
    answer = client.get(f"{URL}?by=colour", headers=auth("planner"))
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "by"
    backwards = client.get(f"{URL}?since={TODAY}&until=2026-01-01", headers=auth("planner"))
    assert backwards.status_code == 422 and backwards.json["errors"][0]["field"] == "since"
