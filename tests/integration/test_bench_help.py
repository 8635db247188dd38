"""Help at the bench: the item's picture from allowed places only, and the defect codes."""

from __future__ import annotations

import dataclasses

import pytest

from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_blind
from tests.factories import add_location
from tests.integration.web_support import log_in

ITEMS = ("sku,size,description,unit_cost,image_url\n"
         "TEE-BLK,M,Black tee,8.50,/assets/tee-blk.png\n"
         "TEE-WHT,M,White tee,8.50,https://img.example.com/tee-wht.jpg\n"
         "TEE-RED,M,Red tee,8.50,https://elsewhere.example.net/tee-red.jpg\n")


@pytest.fixture
def settings(settings):
    """This app allows pictures from img.example.com (config/grading.toml [item_images])."""
    policies = {**settings.policies}
    policies["grading"] = {**policies["grading"],
                           "item_images": {"allowed_hosts": ["img.example.com"]}}
    return dataclasses.replace(settings, policies=policies)


@pytest.fixture
def units(client, auth, uow_factory, settings):
    answer = client.post("/api/v1/imports/items", data=ITEMS.encode(),
                         headers={**auth("integrator"), "Content-Type": "text/csv"})
    assert answer.status_code == 201, answer.json
    add_location(uow_factory, "WH1")
    return {sku: receive_blind(uow_factory, sku=sku, size="M", location="WH1", quantity=1,
                               actor="dock")[0].unit_id
            for sku in ("TEE-BLK", "TEE-WHT", "TEE-RED")}


def test_a_picture_is_shown_from_this_site_or_an_allowed_host_only(client, uow_factory, units):
    log_in(client, uow_factory, "grader")
    own = client.get(f"/station/units/{units['TEE-BLK']}")
    assert 'id="item-image" src="/assets/tee-blk.png"' in own.get_data(as_text=True)
    allowed = client.get(f"/station/units/{units['TEE-WHT']}")
    assert 'src="https://img.example.com/tee-wht.jpg"' in allowed.get_data(as_text=True)
    assert "img-src 'self' data: https://img.example.com;" in \
        allowed.headers["Content-Security-Policy"]
    other = client.get(f"/station/units/{units['TEE-RED']}").get_data(as_text=True)
    assert "elsewhere.example.net" not in other and 'id="item-image"' not in other


def test_the_unit_page_says_what_each_defect_code_means(client, uow_factory, units, settings):
    log_in(client, uow_factory, "grader")
    page = client.get(f"/station/units/{units['TEE-BLK']}").get_data(as_text=True)
    for label, meaning in [("Stain", "A mark that does not brush off"),
                           ("Odour", "Smells of perfume")]:
        assert f"<dt>{label}</dt><dd>{meaning}" in page
    assert Policies.from_settings(settings).grading.defect_help.keys() == \
        Policies.from_settings(settings).grading.defects.keys()


def test_an_image_url_that_is_not_a_path_or_http_url_is_refused(client, auth, uow_factory):
    answer = client.post("/api/v1/imports/items",
                         data=b"sku,size,image_url\nTEE-BLK,M,javascript:alert(1)\n",
                         headers={**auth("integrator"), "Content-Type": "text/csv"})
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "image_url"
