"""The planner console's suggestions table: filters, sorting, pages and decisions by form."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from returns_inventory.persistence.planning_tables import replenishment_suggestions
from returns_inventory.persistence.tables import outbox_events
from returns_inventory.services.forecast_runs import RunRequest, run_forecast
from returns_inventory.services.suggestion_decisions import decide_suggestion
from returns_inventory.settings import Settings
from tests.integration.test_replenishment_rerun import AS_OF, add_history
from tests.integration.web_support import hidden, log_in


@pytest.fixture
def planner(client, uow_factory):
    return log_in(client, uow_factory, "planner")


def _page(client, path="/planner"):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def _row(html: str, suggestion_id: int) -> str:
    found = re.search(rf'<tr id="s-{suggestion_id}".*?</tr>', html, re.S)
    assert found, f"no row for suggestion {suggestion_id}"
    return found.group(0)


def _version(html: str, suggestion_id: int) -> str:
    return re.search(r'name="version" value="(\d+)"', _row(html, suggestion_id)).group(1)


def _suggestion(db, suggestion_id):
    return db.connection.execute(select(replenishment_suggestions).where(
        replenishment_suggestions.c.id == suggestion_id)).one()


def _decisions(uow_factory, suggestion_id):
    with uow_factory() as uow:
        return uow.suggestions.decisions(suggestion_id)


def _words(response) -> str:
    """The page's text from its heading on, tags dropped and spaces collapsed."""
    html = response.get_data(as_text=True)
    main = re.search(r"<h1>.*", html, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


def confirm(client, asked):
    """Press the confirmation page's button: post back every field it carries."""
    html = asked.get_data(as_text=True)
    form = re.search(r'<form method="post" action="/planner/decisions">.*?</form>', html, re.S)
    assert form, "no confirmation form"
    fields = [(n, unescape(v)) for n, v in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))]
    comment = re.search(r'name="comment"[^>]*value="([^"]*)"', form.group(0))
    data = {}
    for name, value in fields + ([("comment", unescape(comment.group(1)))] if comment else []):
        data.setdefault(name, []).append(value)
    return client.post("/planner/decisions", data=data)


def _decide(client, suggestion_id, html, **fields):
    return client.post(f"/planner/suggestions/{suggestion_id}/decision", data={
        "csrf_token": hidden(html, "csrf_token"), "version": _version(html, suggestion_id),
        "back": "/planner?sku=TEE-BLK", **fields})


def test_a_planner_lands_on_the_suggestions_of_the_latest_run_with_every_figure(
        client, uow_factory, board, planner):
    assert client.get("/").headers["Location"].endswith("/planner")
    html = _page(client)
    assert f"Forecast run {board.run_id} as of 2026-11-23" in html
    assert "<strong>5</strong> suggestions match" in html
    medium = _row(html, board.ids["TEE-BLK/M"])
    # sku, size, location, suggested, return-blind, the difference, value, change, status
    for shown in ["TEE-BLK", ">M<", "WH1", ">30<", ">36<", "+6", "255.00", "+6", "was 24",
                  "waiting for a planner"]:
        assert shown in medium, shown
    assert "new" in _row(html, board.ids["TEE-BLK/L"])  # nothing suggested last run
    assert "\u221212" in _row(html, board.ids["SOCK-WHT/OS"])  # 24 now, 36 before
    for entry in ("Suggestions", "Returns analytics", "Forecast runs"):
        assert f">{entry}</a>" in html  # the navigation bar by role
    assert ">Grading station</a>" not in html


def test_the_table_filters_sorts_and_pages(client, board, planner, monkeypatch):
    tops = _page(client, "/planner?category=tops&min_quantity=15&sort=suggested_qty")
    assert "<strong>2</strong> suggestions match" in tops
    assert tops.index(f's-{board.ids["TEE-BLK/L"]}"') < tops.index(f's-{board.ids["TEE-BLK/M"]}"')
    assert 'aria-sort="ascending"' in tops and "sort=-suggested_qty" in tops  # click flips it
    changed = _page(client, "/planner?changed=true&location=WH1")
    assert "<strong>2</strong> suggestions match" in changed  # M and L; socks are at WH2
    assert f's-{board.ids["TEE-BLK/S"]}"' not in changed
    worth = _page(client, "/planner?min_value=200")
    assert "<strong>1</strong> suggestion match" in worth
    old = _page(client, f"/planner?run={board.old_run_id}&status=superseded")
    assert f's-{board.old_id}"' in old and "replaced by a newer run" in old
    monkeypatch.setattr("returns_inventory.web.planner.PAGE_SIZE", 2)
    second = _page(client, "/planner?sort=sku&page=2")
    assert "Page 2 of 3" in second and 'rel="prev"' in second and 'rel="next"' in second
    assert second.count('<tr id="s-') == 2
    past_the_end = client.get("/planner?sort=sku&page=99")
    assert past_the_end.status_code == 302  # a stale bookmark opens the last page
    assert past_the_end.headers["Location"] == "/planner?sort=sku&page=3"
    assert "Page 3 of 3" in _page(client, past_the_end.headers["Location"])


def test_a_bad_filter_is_refused_in_words(client, board, planner):
    response = client.get("/planner?min_quantity=-3&sort=colour")
    assert response.status_code == 422
    assert "Minimum quantity" in response.get_data(as_text=True)


def test_approving_a_row_by_form_records_the_decision_and_announces_the_order(
        client, uow_factory, db, board, planner):
    html = _page(client, "/planner?sku=TEE-BLK")
    sid = board.ids["TEE-BLK/M"]
    response = _decide(client, sid, html, action="approve")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/planner?sku=TEE-BLK#s-{sid}"
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Approved TEE-BLK size M at WH1: 30 units = 5 cases of 6." in after
    assert "approved" in _row(after, sid)
    row = _suggestion(db, sid)
    assert (row.status, row.approved_qty, row.decided_by) == ("approved", 30, "user:planner1")
    [audit] = _decisions(uow_factory, sid)
    assert (audit["action"], audit["quantity"], audit["actor"]) == ("approve", 30,
                                                                   "user:planner1")
    events = db.connection.execute(select(outbox_events.c.event_type)).scalars().all()
    assert "replenishment.approved" in events


def test_editing_a_row_rounds_to_case_packs_and_keeps_the_comment(
        client, uow_factory, db, board, planner):
    html = _page(client, "/planner?sku=TEE-BLK")
    sid = board.ids["TEE-BLK/S"]
    response = _decide(client, sid, html, action="edit", quantity="13",
                       comment="promotion next month")
    assert response.status_code == 303
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "13 units rounded up to 18 (3 cases of 6)" in after
    row = _suggestion(db, sid)
    assert (row.status, row.approved_qty, row.comment) == ("edited", 18, "promotion next month")
    [audit] = _decisions(uow_factory, sid)
    assert (audit["action"], audit["quantity"], audit["comment"]) == (
        "edit", 18, "promotion next month")


def test_rejecting_a_row_and_a_bad_quantity_are_both_answered_in_words(
        client, uow_factory, db, board, planner):
    html = _page(client, "/planner?sku=TEE-BLK")
    sid = board.ids["TEE-BLK/L"]
    refused = _decide(client, sid, html, action="edit", quantity="none")
    assert refused.status_code == 422
    assert "Enter the new quantity as a whole number" in refused.get_data(as_text=True)
    assert _suggestion(db, sid).status == "proposed"
    response = _decide(client, sid, html, action="reject")
    assert response.status_code == 303
    assert "Rejected TEE-BLK size L at WH1." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    assert _suggestion(db, sid).status == "rejected"
    assert [d["action"] for d in _decisions(uow_factory, sid)] == ["reject"]


def test_a_comment_too_long_is_refused_on_the_page_as_the_api_refuses_it(
        client, uow_factory, db, board, planner):
    html = _page(client, "/planner?sku=TEE-BLK")
    sid = board.ids["TEE-BLK/L"]
    refused = _decide(client, sid, html, action="reject", comment="x" * 2001)
    assert refused.status_code == 422
    assert "at most 2000 are kept" in refused.get_data(as_text=True)
    assert _suggestion(db, sid).status == "proposed"
    assert _decisions(uow_factory, sid) == []


def test_a_stale_version_shows_who_decided_first_and_changes_nothing(
        client, uow_factory, db, board, planner):
    html = _page(client, "/planner?sku=TEE-BLK")  # the planner reads the table ...
    sid = board.ids["TEE-BLK/M"]
    decide_suggestion(uow_factory, sid, action="approve", actor="user:olga",
                      expected_version=1)  # ... while Olga approves the row
    response = _decide(client, sid, html, action="reject")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert re.search(rf"Suggestion {sid} was already approved by olga at "
                     r"\d{4}-\d\d-\d\d \d\d:\d\d UTC — reload", page)
    assert "approved" in _row(page, sid)  # the table shown is fresh
    assert _suggestion(db, sid).status == "approved"
    assert [d["actor"] for d in _decisions(uow_factory, sid)] == ["user:olga"]


def test_bulk_approving_the_ticked_rows_decides_those_only(
        client, uow_factory, db, board, planner):
    html = _page(client)
    ticked = [board.ids["TEE-BLK/S"], board.ids["JEAN-IND/32"]]
    asked = client.post("/planner/decisions", data={
        "csrf_token": hidden(html, "csrf_token"), "back": "/planner", "do": "approve-ticked",
        "ids": [str(i) for i in ticked]})
    # First the planner sees what it touches (12 + 8 units), and nothing is decided yet.
    assert asked.status_code == 200
    assert _words(asked).startswith("Approve 2 lines?")
    assert "This will approve 2 lines totalling 20 units of the 2 ticked suggestions" in \
        _words(asked)
    assert {_suggestion(db, i).status for i in ticked} == {"proposed"}
    response = confirm(client, asked)
    assert response.status_code == 303
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Approved 2 of 2 ticked suggestions." in after
    statuses = {k: _suggestion(db, v).status for k, v in board.ids.items()}
    assert [k for k, s in statuses.items() if s == "approved"] == ["TEE-BLK/S", "JEAN-IND/32"]
    assert all(_decisions(uow_factory, i)[0]["actor"] == "user:planner1" for i in ticked)
    nothing = client.post("/planner/decisions", data={
        "csrf_token": hidden(html, "csrf_token"), "back": "/planner", "do": "reject-ticked"})
    assert nothing.status_code == 422
    assert "Tick at least one row first" in nothing.get_data(as_text=True)


def test_bulk_rejecting_every_matching_row_follows_the_filters(
        client, uow_factory, db, board, planner):
    html = _page(client, "/planner?category=tops")
    asked = client.post("/planner/decisions", data={
        "csrf_token": hidden(html, "csrf_token"), "back": "/planner?category=tops",
        "do": "reject-matching", "category": "tops", "comment": "range discontinued"})
    assert "This will reject 3 lines totalling 60 units of the 3 matching suggestions" in \
        _words(asked)
    response = confirm(client, asked)
    assert response.status_code == 303
    assert "Rejected 3 of 3 matching suggestions." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    statuses = {k: _suggestion(db, v).status for k, v in board.ids.items()}
    assert statuses == {"TEE-BLK/S": "rejected", "TEE-BLK/M": "rejected",
                        "TEE-BLK/L": "rejected", "JEAN-IND/32": "proposed",
                        "SOCK-WHT/OS": "proposed"}
    audit = _decisions(uow_factory, board.ids["TEE-BLK/M"])
    assert [(d["action"], d["comment"]) for d in audit] == [("reject", "range discontinued")]


def test_bulk_deciding_every_matching_row_decides_the_run_on_the_page_only(
        client, uow_factory):
    add_history(uow_factory)
    settings = Settings.load(env={})
    shown = run_forecast(uow_factory, settings, RunRequest(as_of=AS_OF, actor="test"))
    log_in(client, uow_factory, "planner")
    html = _page(client, "/planner?sku=TEE-BLK")
    bulk = html.split('id="bulk"')[1].split("</form>")[0]
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', bulk))
    # Meanwhile someone starts the next day's run, which replaces what the page shows.
    newer = run_forecast(uow_factory, settings,
                         RunRequest(as_of=AS_OF + timedelta(days=1), actor="test"))
    response = client.post("/planner/decisions", data={**form, "do": "approve-matching",
                                                        "confirmed": "yes"})
    assert response.status_code == 303
    with uow_factory() as uow:
        unseen = uow.connection.execute(select(replenishment_suggestions.c.status).where(
            replenishment_suggestions.c.run_id == newer["id"])).scalars().all()
    assert unseen and "approved" not in unseen
    assert form["run"] == str(shown["id"])


def test_a_form_without_its_token_is_refused(client, db, board, planner):
    response = client.post(f"/planner/suggestions/{board.ids['TEE-BLK/M']}/decision",
                           data={"action": "approve", "version": "1"})
    assert response.status_code == 400
    assert _suggestion(db, board.ids["TEE-BLK/M"]).status == "proposed"


@pytest.mark.parametrize("path", ["/planner", "/planner/suggestions/1", "/planner/returns",
                                  "/planner/runs", "/planner/runs/1"])
def test_a_grader_may_not_open_the_planner_pages(client, uow_factory, path):
    log_in(client, uow_factory, "grader")
    response = client.get(path)
    assert response.status_code == 403
    assert "Not for your role" in response.get_data(as_text=True)


def test_a_grader_may_not_decide_by_form(client, uow_factory, db, board):
    log_in(client, uow_factory, "grader")
    page = client.get("/station").get_data(as_text=True)
    sid = board.ids["TEE-BLK/M"]
    response = client.post(f"/planner/suggestions/{sid}/decision", data={
        "csrf_token": hidden(page, "csrf_token"), "action": "approve", "version": "1"})
    assert response.status_code == 403
    assert _suggestion(db, sid).status == "proposed"


def test_an_admin_sees_the_station_and_the_planner_console(client, uow_factory, board):
    log_in(client, uow_factory, "admin")
    html = _page(client, "/")
    for entry in ("Grading station", "Suggestions", "Returns analytics", "Forecast runs"):
        assert f">{entry}</a>" in html
    assert client.get("/planner").status_code == 200


def test_a_visitor_is_sent_to_log_in_first(client, board):
    response = client.get("/planner?sku=TEE-BLK")
    assert response.status_code == 303
    assert "/login?next=" in response.headers["Location"]


def test_a_sku_category_or_supplier_typed_in_another_case_finds_its_rows(
        client, board, planner):
    for typed, rows in (("sku=tee-blk", 3), ("category=TOPS", 3), ("supplier=denimco", 1),
                        ("category=Top", 0)):  # a different word still matches nothing
        html = _page(client, f"/planner?{typed}")
        assert html.count('<tr id="s-') == rows, typed
