"""Quality alerts on replenishment suggestions: marked with the evidence, and held or capped
by the rule in config/forecasting.toml [quality_alerts]."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import pytest

from returns_inventory import create_app
from returns_inventory.persistence.tables import locations
from returns_inventory.services import suggestion_alerts
from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings
from tests.factories import item_id_of
from tests.integration.quality_data import ITEMS, TODAY, build, import_items, sell_and_return
from tests.integration.suggestion_data import _run, _suggestion

URL = "/api/v1/replenishment/suggestions"


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def board(uow_factory, policies):
    """BADCO's tee (with its bad batch) and ACME's tee, one suggestion each: 40 return-aware
    against 36 return-blind for TEE-B, 30 against 36 for TEE-A."""
    build(uow_factory, policies)
    run = _run(uow_factory, TODAY)
    with uow_factory() as uow:
        warehouse = uow.connection.execute(locations.select()).first().id
        uow.planning.add_suggestions([
            _suggestion(run, TODAY, item_id_of(uow_factory, "TEE-B"), warehouse, "9.00", 40, 36,
                        None),
            _suggestion(run, TODAY, item_id_of(uow_factory, "TEE-A"), warehouse, "8.50", 30, 36,
                        None)])
        uow.commit()
    return run


def _suggestions(client, headers) -> dict[str, dict]:
    body = client.get(URL, headers=headers).json
    return {row["sku"]: row for row in body["data"]}


def _client_with_rule(settings, db, rule: str):
    forecasting = {**settings.policies.get("forecasting", {}),
                   "quality_alerts": {"window_days": 56, "rule": rule}}
    app = create_app(replace(settings, policies={**settings.policies,
                                                 "forecasting": forecasting}))
    app.extensions["ri.database"].dispose()
    app.extensions["ri.database"] = db
    return app.test_client()


def test_a_flagged_style_and_supplier_are_marked_on_the_suggestion_with_the_evidence(
        client, auth, board):
    rows = _suggestions(client, auth("planner"))
    marks = {(a["by"], a["group"], a["category"]) for a in rows["TEE-B"]["quality_alert"]}
    assert marks == {("style", "TEE-B", "tops"), ("supplier", "BADCO", "tops")}
    style = next(a for a in rows["TEE-B"]["quality_alert"] if a["by"] == "style")
    assert (style["units_sold"], style["quality_returns"]) == (200, 23)  # both sales in window
    assert style["q_value"] < 0.05 and style["share"] > style["rest_share"]
    assert rows["TEE-A"]["quality_alert"] == []
    one = client.get(f"{URL}/{rows['TEE-B']['id']}", headers=auth("planner")).json
    assert one["quality_alert"] == rows["TEE-B"]["quality_alert"]


def test_with_the_mark_rule_a_flagged_suggestion_is_approved_and_exported_with_its_alert(
        client, auth, board):
    rows = _suggestions(client, auth("planner"))
    approved = client.post(f"{URL}/{rows['TEE-B']['id']}/decision",
                           json={"action": "approve"}, headers=auth("planner"))
    assert approved.status_code == 200, approved.json
    export = client.get("/api/v1/replenishment/exports", headers=auth("integrator")).json
    [line] = [line for order in export["orders"] for line in order["lines"]]
    assert {a["by"] for a in line["quality_alert"]} == {"style", "supplier"}
    text = client.get("/api/v1/replenishment/exports?format=csv",
                      headers=auth("integrator")).get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert "style TEE-B returns 11.5% for quality against 2.5% in tops" in row["quality_alert"]


def test_the_hold_rule_refuses_approving_a_flagged_suggestion_and_bulk_skips_it(
        settings, db, auth, board):
    client = _client_with_rule(settings, db, "hold")
    rows = _suggestions(client, auth("planner"))
    held = client.post(f"{URL}/{rows['TEE-B']['id']}/decision", json={"action": "approve"},
                       headers=auth("planner"))
    assert held.status_code == 422 and held.json["rule"] == "quality_hold"
    assert "supplier BADCO" in held.json["detail"]
    assert client.post(f"{URL}/{rows['TEE-B']['id']}/decision", json={"action": "reject"},
                       headers=auth("planner")).status_code == 200
    bulk = client.post(f"{URL}/decisions", json={"action": "approve", "filter": {}},
                       headers=auth("planner")).json
    assert (bulk["decided"], _suggestions(client, auth("planner"))["TEE-A"]["status"]) == (
        1, "approved")


def test_the_cap_rule_approves_a_flagged_suggestion_only_up_to_the_return_blind_quantity(
        settings, db, auth, board):
    client = _client_with_rule(settings, db, "cap")
    rows = _suggestions(client, auth("planner"))
    over = client.post(f"{URL}/{rows['TEE-B']['id']}/decision", json={"action": "approve"},
                       headers=auth("planner"))
    assert over.status_code == 422 and over.json["errors"][0]["field"] == "quantity"
    approved = client.post(f"{URL}/{rows['TEE-B']['id']}/decision",
                           json={"action": "approve", "quantity": 36}, headers=auth("planner"))
    assert approved.status_code == 200, approved.json
    assert approved.json["suggestion"]["approved_qty"] == 36


@pytest.fixture
def lists_copy_stale(monkeypatch):
    """Lists keep their alerts five minutes (services/suggestion_alerts.py); these tests read
    again as if that time had passed, so the figures kept below it must notice the change."""
    monkeypatch.setattr(suggestion_alerts, "FRESH_SECONDS", 0.0)


def test_quality_returns_received_after_a_page_was_read_mark_the_style_on_the_next_read(
        client, auth, board, uow_factory, policies, lists_copy_stale):
    assert _suggestions(client, auth("planner"))["TEE-A"]["quality_alert"] == []
    with uow_factory() as uow:
        warehouse = uow.connection.execute(locations.select()).first().id
    sell_and_return(uow_factory, policies, "SO-A3", item_id_of(uow_factory, "TEE-A"),
                    warehouse, sold=40, returned=36)
    marks = _suggestions(client, auth("planner"))["TEE-A"]["quality_alert"]
    assert ("style", "TEE-A") in {(a["by"], a["group"]) for a in marks}


def test_a_clean_item_moved_to_a_flagged_supplier_counts_in_its_evidence_on_the_next_read(
        client, auth, board, uow_factory, lists_copy_stale):
    before = _suggestions(client, auth("planner"))["TEE-B"]["quality_alert"]
    assert [a["units_sold"] for a in before if a["by"] == "supplier"] == [200]
    import_items(uow_factory, ITEMS.replace("TEE-C,M,tops,7.00,CLEANCO", "TEE-C,M,tops,7.00,BADCO"))
    after = _suggestions(client, auth("planner"))["TEE-B"]["quality_alert"]
    # BADCO now sold TEE-C's 100 clean units beside TEE-B's 200: 25 of 300 back against
    # ACME's 3 of 101, no longer a flag.
    assert [a["units_sold"] for a in after if a["by"] == "supplier"] == []


def test_the_pages_say_how_fresh_their_quality_marks_are(client, auth, uow_factory, board):
    from datetime import UTC, datetime, timedelta

    from tests.integration.web_support import log_in

    suggestion_alerts.forget()
    log_in(client, uow_factory, "planner")
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    html = client.get("/planner").get_data(as_text=True)
    stated = re.search(r'id="quality-freshness">Quality marks as of '
                       r"(\d{4}-\d\d-\d\d \d\d:\d\d) UTC\. They are worked out again every 5 "
                       r"minutes, so a quality return received since shows within 5 minutes",
                       html)
    assert stated, "the list does not say how fresh its quality marks are"
    when = datetime.strptime(stated.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert before <= when <= datetime.now(UTC) + timedelta(minutes=1)
    ids = dict(re.findall(r'<tr id="s-(\d+)"[^>]*>.*?class="open">([A-Z-]+)</a>', html, re.S))
    flagged = {sku: sid for sid, sku in ids.items()}
    page = client.get(f"/planner/suggestions/{flagged['TEE-B']}").get_data(as_text=True)
    assert f'id="quality-freshness">As of {stated.group(1)} UTC; worked out again' in page
    clean = client.get(f"/planner/suggestions/{flagged['TEE-A']}").get_data(as_text=True)
    assert f'id="quality-freshness">No quality alert as of {stated.group(1)} UTC' in clean
    listed = client.get(URL, headers=auth("planner")).json  # the API says the same time
    assert listed["quality_alerts_as_of"].startswith(stated.group(1).replace(" ", "T"))
