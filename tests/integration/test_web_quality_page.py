"""The planners' quality page: scorecards, flags, monthly charts, claims and their windows."""

from __future__ import annotations

import pytest

from returns_inventory.services.claims import gather_claims
from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings
from tests.integration.quality_data import build
from tests.integration.web_support import log_in


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def planner(client, uow_factory):
    log_in(client, uow_factory, "planner")


def test_the_quality_page_flags_the_bad_supplier_and_lists_its_claim(
        client, uow_factory, policies, planner):
    build(uow_factory, policies)
    [claim] = gather_claims(uow_factory, policies.grading, actor="test")
    html = client.get("/planner/quality?by=supplier&window=90").get_data(as_text=True)
    assert "<strong>BADCO</strong>: 11.5% of 200 tops sold came back for quality" in html
    assert "BADCO <span class=\"flag\">quality</span>" in html
    assert 'aria-label="Quality-return rate by month of sale, per supplier"' in html
    assert "style=" not in html.split("<svg", 1)[1]  # the CSP allows no inline style
    assert f"claim_id={claim['id']}" not in html  # links are paths, not query strings
    assert f"/api/v1/claims/{claim['id']}?format=pdf" in html
    assert "Claim windows ending within 30 days" in html


def test_the_quality_page_groups_by_factory_and_says_when_nothing_sold(
        client, uow_factory, policies, planner):
    empty = client.get("/planner/quality").get_data(as_text=True)
    assert "No sales in this window" in empty and "No claim is drafted" in empty
    build(uow_factory, policies)
    html = client.get("/planner/quality?by=factory&window=bogus").get_data(as_text=True)
    assert "Quality by factory" in html and "F-DHAKA" in html and "last 6 months" in html


def test_graders_cannot_open_the_quality_page(client, uow_factory):
    log_in(client, uow_factory, "grader")
    assert client.get("/planner/quality").status_code == 403
