"""The write-off report over HTTP: only posted write-offs count, in JSON and in CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from returns_inventory.services.grading import grade_unit, regrade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.write_offs import decide_write_off
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale

URL = "/api/v1/reports/write-offs"
TODAY = datetime.now(UTC).date()  # write-offs post with UTC timestamps


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


def _units(uow_factory, policies, order_ref, quantity, location):
    view = authorize_return(
        uow_factory,
        policies,
        order_ref=order_ref,
        actor="erp",
        lines=[ReturnLineRequest(line_ref="1", quantity=quantity, reason="quality_defect")],
    )
    units = receive_units(
        uow_factory,
        rma=view.rma,
        location=location,
        actor="grader",
        lines=[{"line_no": 1, "quantity": quantity}],
    )
    return [u.unit_id for u in units]


def _grade_d(uow_factory, policies, unit, defects):
    return grade_unit(
        uow_factory, policies, unit_id=unit, grade="D", defects=defects, actor="grader"
    )


@pytest.fixture
def write_offs(uow_factory, policies):
    """Posted: 2 tees with a tear at WH1 (8.50 each), 1 tee with a stain at ST1 (8.50),
    1 coat approved by an admin (180.00). Not posted: 1 coat pending approval, 1 tee
    re-graded to B (its write-off reversed), 1 coat whose write-off the admin rejected."""
    warehouse = add_location(uow_factory, "WH1")
    add_location(uow_factory, "ST1", type="store")
    tee = add_item(uow_factory, "TEE-BLK", "M", unit_cost="8.50")
    coat = add_item(uow_factory, "COAT-GRY", "L", unit_cost="180.00", category="outerwear")
    add_sale(uow_factory, tee, warehouse, order_ref="SO-T", quantity=4)
    add_sale(uow_factory, coat, warehouse, order_ref="SO-C", quantity=3)
    torn_1, torn_2, reversed_ = _units(uow_factory, policies, "SO-T", 3, "WH1")
    [stained] = _units(uow_factory, policies, "SO-T", 1, "ST1")
    approved, pending, rejected = _units(uow_factory, policies, "SO-C", 3, "WH1")
    for unit in (torn_1, torn_2, reversed_):
        _grade_d(uow_factory, policies, unit, ["tear"])
    _grade_d(uow_factory, policies, stained, ["stain"])
    regrade_unit(
        uow_factory, policies, unit_id=reversed_, grade="B", reason="only a thread", actor="admin"
    )
    for unit, approve in ((approved, True), (rejected, False)):
        waiting = _grade_d(uow_factory, policies, unit, ["tear", "odour"])
        decide_write_off(
            uow_factory, write_off_id=waiting.write_off_id, approve=approve, actor="admin"
        )
    assert _grade_d(uow_factory, policies, pending, ["tear"]).awaiting_approval


def _rows(body):
    return [
        (r["sku"], r["size"], r["location"], r["reason"], r["units"], r["value"])
        for r in body["rows"]
    ]


def test_the_report_sums_posted_write_offs_by_sku_size_location_and_reason(
    client, auth, write_offs
):
    answer = client.get(URL, headers=auth("planner"))
    assert answer.status_code == 200, answer.json
    assert _rows(answer.json) == [
        ("COAT-GRY", "L", "WH1", "grade D: odour, tear", 1, "180.00"),
        ("TEE-BLK", "M", "ST1", "grade D: stain", 1, "8.50"),
        ("TEE-BLK", "M", "WH1", "grade D: tear", 2, "17.00"),
    ]
    assert answer.json["totals"] == {"units": 4, "value": "205.50"}


# filter -> (units, value) of the posted write-offs it keeps
FILTERS = {
    "sku=TEE-BLK": (3, "25.50"),
    "sku=COAT-GRY&size=L": (1, "180.00"),
    "location=ST1": (1, "8.50"),
    "reason=TEAR": (3, "197.00"),
    "defect=stain": (1, "8.50"),
    "defect=odour&location=WH1": (1, "180.00"),
    "grade=D": (4, "205.50"),
    "grade=B": (0, "0.00"),
    f"since={TODAY.isoformat()}&until={TODAY.isoformat()}": (4, "205.50"),
    f"until={(TODAY - timedelta(days=1)).isoformat()}": (0, "0.00"),
    f"since={(TODAY + timedelta(days=1)).isoformat()}": (0, "0.00"),
    "reason=100%25": (0, "0.00"),  # a literal %, not a wildcard
}


def test_the_filters_narrow_the_sums(client, auth, write_offs):
    # One fixture for every filter: building the write-offs is the slow part.
    headers = auth("grader")
    totals = {}
    for query in FILTERS:
        answer = client.get(f"{URL}?{query}", headers=headers)
        assert answer.status_code == 200, (query, answer.json)
        totals[query] = (answer.json["totals"]["units"], answer.json["totals"]["value"])
    assert totals == FILTERS


def test_the_report_is_csv_when_asked_by_header_or_by_format(client, auth, write_offs):
    by_header = client.get(
        f"{URL}?sku=TEE-BLK", headers={**auth("integrator"), "Accept": "text/csv"}
    )
    by_format = client.get(f"{URL}?sku=TEE-BLK&format=csv", headers=auth("integrator"))
    for answer in (by_header, by_format):
        assert answer.status_code == 200
        assert answer.mimetype == "text/csv"
        assert "write-offs.csv" in answer.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
        assert rows == [
            {
                "sku": "TEE-BLK",
                "size": "M",
                "location": "ST1",
                "reason": "grade D: stain",
                "units": "1",
                "value": "8.50",
            },
            {
                "sku": "TEE-BLK",
                "size": "M",
                "location": "WH1",
                "reason": "grade D: tear",
                "units": "2",
                "value": "17.00",
            },
        ]
    assert by_header.get_data(as_text=True) == by_format.get_data(as_text=True)


def test_an_explicit_format_wins_over_the_accept_header(client, auth, write_offs):
    answer = client.get(f"{URL}?sku=TEE-BLK&format=json",
                        headers={**auth("integrator"), "Accept": "text/csv"})
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.json["totals"] == {"units": 3, "value": "25.50"}


def test_json_is_the_default_and_a_wrong_filter_is_a_validation_error(client, auth):
    answer = client.get(URL, headers={**auth("planner"), "Accept": "*/*"})
    assert answer.mimetype == "application/json"
    assert answer.json == {"filters": {}, "rows": [], "totals": {"units": 0, "value": "0.00"}}
    wrong = client.get(f"{URL}?format=xlsx&grade=E", headers=auth("planner"))
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.json["errors"]} == {"format", "grade"}


def test_the_api_document_offers_the_report_as_json_and_as_csv(client, auth):
    spec = client.get("/api/v1/openapi.json", headers=auth("integrator")).json
    content = spec["paths"][URL]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}
