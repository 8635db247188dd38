"""The planners' quality page: scorecards, flags, monthly charts, claims and their windows."""

from __future__ import annotations

import re

import pytest

from returns_inventory.services.claims import gather_claims, list_claims, send_claim
from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings
from tests.integration.quality_data import build, send_back_too_late
from tests.integration.web_support import hidden, log_in


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def planner(client, uow_factory):
    log_in(client, uow_factory, "planner")



def _a_sent_claim(uow_factory, policies):
    """The shop built, its returned units gathered into one claim, and the claim sent."""
    build(uow_factory, policies)
    [claim] = gather_claims(uow_factory, policies.grading, actor="test",
                            today=policies.returns.today())["drafts"]
    send_claim(uow_factory, claim_id=claim["id"], actor="test", today=policies.returns.today())
    return claim

def test_the_quality_page_flags_the_bad_supplier_and_lists_its_claim(
        client, uow_factory, policies, planner):
    build(uow_factory, policies)
    [claim] = gather_claims(uow_factory, policies.grading, actor="test",
                            today=policies.returns.today())["drafts"]
    html = client.get("/planner/quality?by=supplier&window=90").get_data(as_text=True)
    assert "<strong>BADCO</strong>: 11.5% of 200 tops sold came back for quality" in html
    assert "BADCO <span class=\"flag\">quality</span>" in html
    assert 'aria-label="Quality-return rate by month of sale, per supplier"' in html
    assert "style=" not in html.split("<svg", 1)[1]  # the CSP allows no inline style
    assert f"claim_id={claim['id']}" not in html  # links are paths, not query strings
    assert f"/api/v1/claims/{claim['id']}?format=pdf" in html
    assert "Claim windows ended or ending within 30 days" in html


def test_the_quality_page_groups_by_factory_and_says_when_nothing_sold(
        client, uow_factory, policies, planner):
    empty = client.get("/planner/quality").get_data(as_text=True)
    assert "No sales in this window" in empty and "No claim is drafted" in empty
    build(uow_factory, policies)
    html = client.get("/planner/quality?by=factory&window=6").get_data(as_text=True)
    assert "Quality by factory" in html and "F-DHAKA" in html and "last 6 months" in html


def test_a_bad_link_says_what_was_not_understood_and_still_shows_the_report(
        client, uow_factory, policies, planner):
    build(uow_factory, policies)
    response = client.get("/planner/quality?by=colour&window=bogus")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The window must be 90, 180, 365 days; showing the last 6 months." in html
    assert "There is no grouping by \u201ccolour\u201d; showing suppliers." in html
    assert "<strong>BADCO</strong>" in html  # the report by supplier is still there


def test_a_category_typed_in_another_case_finds_its_items(
        client, uow_factory, policies, planner):
    build(uow_factory, policies)
    html = client.get("/planner/quality?by=supplier&window=90&category=TOPS").get_data(
        as_text=True)
    assert "<strong>BADCO</strong>: 11.5% of 200 tops sold came back for quality" in html


def test_graders_cannot_open_the_quality_page(client, uow_factory):
    log_in(client, uow_factory, "grader")
    assert client.get("/planner/quality").status_code == 403


def _post(client, url, **fields):
    page = client.get("/planner/quality").get_data(as_text=True)
    return client.post(url, data={"csrf_token": hidden(page, "csrf_token"),
                                  "submission": hidden(page, "submission"), **fields})


def test_a_planner_gathers_sends_and_credits_a_claim_from_the_page_once_each(
        client, uow_factory, policies, planner):
    build(uow_factory, policies)
    gathered = _post(client, "/planner/quality/claims/gather")
    assert gathered.status_code == 303
    [claim] = list_claims(uow_factory)
    assert (claim["supplier"], claim["status"]) == ("BADCO", "draft")
    page = client.get(gathered.headers["Location"]).get_data(as_text=True)
    assert "1 draft claim gained units" in page and "Mark sent" in page

    form = {"csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission")}
    url = f"/planner/quality/claims/{claim['id']}/send"
    assert client.post(url, data=form).status_code == 303
    assert client.post(url, data=form).status_code == 303  # a double click sends once
    with uow_factory() as uow:
        sent = uow.events.after(0, 1000, "claim.sent")
    assert len(sent) == 1

    credit = f"/planner/quality/claims/{claim['id']}/credit"
    refused = _post(client, credit, amount="lots")
    assert refused.status_code == 422 and "sum of money" in refused.get_data(as_text=True)
    assert 'value="lots"' in refused.get_data(as_text=True)  # the page, as typed
    assert _post(client, credit, amount="10.00", reference="CN-7").status_code == 303
    [credited] = list_claims(uow_factory)
    assert (credited["status"], credited["credited_value"], credited["erp_reference"]) == (
        "credited", "10.00", "CN-7")


def test_a_refusal_needs_a_reason_and_a_draft_cannot_be_credited(
        client, uow_factory, policies, planner):
    build(uow_factory, policies)
    [claim] = gather_claims(uow_factory, policies.grading, actor="test",
                            today=policies.returns.today())["drafts"]
    early = _post(client, f"/planner/quality/claims/{claim['id']}/credit", amount="5")
    assert early.status_code == 409
    send_claim(uow_factory, claim_id=claim["id"], actor="test", today=policies.returns.today())
    blank = _post(client, f"/planner/quality/claims/{claim['id']}/reject", reason="  ")
    assert blank.status_code == 422
    assert _post(client, f"/planner/quality/claims/{claim['id']}/reject",
                 reason="outside the agreement").status_code == 303
    [rejected] = list_claims(uow_factory)
    assert (rejected["status"], rejected["note"]) == ("rejected", "outside the agreement")


def test_an_over_large_credit_comes_back_on_the_page_as_typed_with_its_error_beside_it(
        client, uow_factory, policies, planner):
    claim = _a_sent_claim(uow_factory, policies)
    refused = _post(client, f"/planner/quality/claims/{claim['id']}/credit", amount="99999.00",
                    reference="CN-typed")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Open vendor claims" in html and "Quality by supplier" in html  # not an error page
    field = re.search(rf'<input id="credit-{claim["id"]}"[^>]*>', html).group(0)
    assert 'value="99999.00"' in field and 'aria-invalid="true"' in field
    assert f'aria-describedby="credit-error-{claim["id"]}"' in field and "autofocus" in field
    error = re.search(rf'<p class="field-error" id="credit-error-{claim["id"]}"[^>]*>(.*?)</p>',
                      html).group(1)
    assert error == f"A credit must be more than 0 and at most the claimed {claim['value']}"
    assert 'value="CN-typed"' in html  # the reference typed with it is kept too
    [still] = list_claims(uow_factory)
    assert still["status"] == "sent"  # nothing was credited
    # The form's token was not used up: the corrected figure goes through at once.
    page = html
    fixed = client.post(f"/planner/quality/claims/{claim['id']}/credit", data={
        "csrf_token": hidden(page, "csrf_token"), "submission": hidden(page, "submission"),
        "amount": "1.00", "reference": "CN-typed"})
    assert fixed.status_code == 303
    assert list_claims(uow_factory)[0]["credited_value"] == "1.00"


def test_an_empty_refusal_reason_comes_back_beside_its_field(
        client, uow_factory, policies, planner):
    claim = _a_sent_claim(uow_factory, policies)
    refused = _post(client, f"/planner/quality/claims/{claim['id']}/reject", reason="   ")
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    field = re.search(rf'<input id="reason-{claim["id"]}"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field
    assert f'id="reject-error-{claim["id"]}" role="alert">A rejection needs a reason' in html


def test_gathering_leaves_out_units_whose_claim_window_ended_and_says_how_many(
        client, uow_factory, policies, planner):
    build(uow_factory, policies)
    late = send_back_too_late(uow_factory, policies, units=3)
    gathered = _post(client, "/planner/quality/claims/gather")
    page = client.get(gathered.headers["Location"]).get_data(as_text=True)
    assert ("1 draft claim gained units, ready to send. 3 units were left out: their "
            "supplier&#39;s claim window has ended") in page
    [claim] = list_claims(uow_factory)
    assert claim["units"] == 8  # the eight inside the window, not the three late ones
    expiring = page[page.index('id="expiring-title"'):]
    assert all(code in expiring for code in late)  # still listed, with their window ended
