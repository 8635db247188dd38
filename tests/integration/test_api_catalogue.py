"""Reading the catalogue and stock over HTTP: filters, pagination and one envelope."""

from __future__ import annotations

from datetime import date

import pytest

from returns_inventory.services.stock import adjust_stock
from tests.factories import add_item, add_location


@pytest.fixture
def reader(auth):
    return auth("grader")


@pytest.fixture
def stocked(uow_factory):
    """Three items in two sizes at two locations, with some stock in two conditions."""
    add_location(uow_factory, "WH1")
    add_location(uow_factory, "ST1", type="store", allow_negative=True)
    add_item(uow_factory, "TEE-BLK", "M", gtin="04012345678901")
    add_item(uow_factory, "TEE-BLK", "L")
    add_item(uow_factory, "JKT-RED", "M", category="outerwear", unit_cost="19.90",
             factory="Porto 2", season="AW26", fabric="wool blend",
             launched_on=date(2026, 9, 7))
    for sku, size, location, condition, quantity in [
        ("TEE-BLK", "M", "WH1", "sellable", 5),
        ("TEE-BLK", "M", "WH1", "repair", 1),
        ("TEE-BLK", "L", "WH1", "sellable", 3),
        ("TEE-BLK", "M", "ST1", "sellable", 2),
        ("JKT-RED", "M", "ST1", "sellable", 4),
    ]:
        adjust_stock(uow_factory, sku=sku, size=size, location=location, condition=condition,
                     quantity=quantity, reason="opening count", actor="token:test")


def _rows(client, url, headers, **params):
    response = client.get(url, headers=headers, query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.usefixtures("stocked")
@pytest.mark.parametrize(("params", "expected"), [
    ({}, 5),
    ({"sku": "TEE-BLK"}, 4),
    ({"sku": "TEE-BLK", "size": "M"}, 3),
    ({"location": "ST1"}, 2),
    ({"condition": "repair"}, 1),
    ({"sku": "TEE-BLK", "size": "M", "location": "WH1", "condition": "sellable"}, 1),
    ({"sku": "NOPE"}, 0),
])
def test_stock_filters_narrow_the_balances(client, reader, params, expected):
    body = _rows(client, "/api/v1/stock", reader, **params)
    assert len(body["data"]) == body["page"]["total"] == expected
    for row in body["data"]:
        assert {k: row[k] for k in params} == params
        assert row["available"] == row["on_hand"] - row["reserved"]


@pytest.mark.usefixtures("stocked")
def test_stock_pages_cover_every_balance_once_in_a_stable_order(client, reader):
    seen = []
    for offset in (0, 2, 4):
        body = _rows(client, "/api/v1/stock", reader, offset=offset, limit=2)
        assert body["page"] == {"offset": offset, "limit": 2, "total": 5}
        seen += [(r["sku"], r["size"], r["location"], r["condition"]) for r in body["data"]]
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen)


@pytest.mark.usefixtures("stocked")
def test_a_limit_above_the_configured_maximum_is_capped(app, client, reader):
    app.extensions["ri.settings"] = app.extensions["ri.settings"].replace(page_size_max=2)
    body = _rows(client, "/api/v1/stock", reader, limit=500)
    assert body["page"]["limit"] == 2 and len(body["data"]) == 2


def test_a_limit_below_one_names_the_real_bound(client, reader):
    response = client.get("/api/v1/stock", headers=reader, query_string={"limit": 0})
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["field"] == "limit" and "greater than or equal to 1" in error["reason"]
    assert "10000" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("url", "params"), [
    ("/api/v1/units", {}), ("/api/v1/exchanges", {"status": "reserved"}),
    ("/api/v1/ledger", {}), ("/api/v1/events", {}),
])
def test_every_list_serves_a_limit_above_its_maximum_as_the_maximum(client, auth, url, params):
    response = client.get(url, headers=auth("admin"), query_string={**params, "limit": 5000})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["page"]["limit"] == 1000


@pytest.mark.parametrize("params", [{"condition": "broken"}, {"limit": 0}, {"offset": -1}])
def test_bad_query_arguments_are_a_422_naming_the_field(client, reader, params):
    response = client.get("/api/v1/stock", headers=reader, query_string=params)
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["field"] == next(iter(params))


@pytest.mark.usefixtures("stocked")
@pytest.mark.parametrize(("params", "expected"), [
    ({}, [("JKT-RED", "M"), ("TEE-BLK", "L"), ("TEE-BLK", "M")]),
    ({"sku": "TEE-BLK"}, [("TEE-BLK", "L"), ("TEE-BLK", "M")]),
    ({"size": "M"}, [("JKT-RED", "M"), ("TEE-BLK", "M")]),
    ({"category": "outerwear"}, [("JKT-RED", "M")]),
    ({"gtin": "04012345678901"}, [("TEE-BLK", "M")]),
    ({"offset": 1, "limit": 1}, [("TEE-BLK", "L")]),
])
def test_items_filter_and_paginate_like_stock(client, reader, params, expected):
    body = _rows(client, "/api/v1/items", reader, **params)
    assert [(r["sku"], r["size"]) for r in body["data"]] == expected
    assert body["page"]["total"] == (3 if "offset" in params else len(expected))


@pytest.mark.usefixtures("stocked")
def test_an_item_carries_its_replenishment_fields_and_exact_money(client, reader):
    [jacket] = _rows(client, "/api/v1/items", reader, sku="JKT-RED")["data"]
    assert jacket["unit_cost"] == "19.90" and jacket["price"] == "25.00"
    assert (jacket["lead_time_days"], jacket["case_pack"], jacket["min_order_qty"]) == (21, 6, 12)
    assert jacket["category"] == "outerwear" and jacket["supplier"] == "ACME"


@pytest.mark.usefixtures("stocked")
def test_an_item_shows_what_the_erp_said_of_its_making_and_launch(client, reader):
    """Scorecards group by factory, season and fabric: the ERP can read back what it sent."""
    [jacket] = _rows(client, "/api/v1/items", reader, sku="JKT-RED")["data"]
    assert (jacket["factory"], jacket["season"], jacket["fabric"], jacket["launched_on"]) == (
        "Porto 2", "AW26", "wool blend", "2026-09-07")
    tee = _rows(client, "/api/v1/items", reader, sku="TEE-BLK", size="L")["data"][0]
    assert (tee["factory"], tee["launched_on"], tee["image_url"]) == (None, None, None)


@pytest.mark.usefixtures("stocked")
def test_locations_list_with_type_and_the_same_envelope(client, reader):
    body = _rows(client, "/api/v1/locations", reader)
    assert [(r["code"], r["type"], r["allow_negative"]) for r in body["data"]] == [
        ("ST1", "store", True), ("WH1", "warehouse", False)]
    assert body["page"] == {"offset": 0, "limit": 100, "total": 2}
    stores = _rows(client, "/api/v1/locations", reader, type="store")["data"]
    assert [r["code"] for r in stores] == ["ST1"]
