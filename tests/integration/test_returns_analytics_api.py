"""Returns analytics over HTTP, on flows built through the services: authorize, receive, grade."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from returns_inventory import create_app, extensions
from returns_inventory.api.reports import ReturnsAnalytics
from returns_inventory.domain.errors import Conflict
from returns_inventory.persistence.report_tables import returns_reports
from returns_inventory.persistence.repositories.stored_reports import (
    COMPUTING,
    StoredReportRepository,
)
from returns_inventory.persistence.tables import locations
from returns_inventory.services import analytics, report_requests, stored_reports
from returns_inventory.services.grading import grade_unit
from returns_inventory.services.policies import Policies
from returns_inventory.services.receiving import receive_units
from returns_inventory.services.report_requests import ReportComputing
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale, item_id_of

TODAY = datetime.now(UTC).date()  # receipts are stamped in UTC
SOLD_ON = TODAY - timedelta(days=10)
URL = "/api/v1/analytics/returns"


@pytest.fixture
def policies():
    return Policies.from_settings(Settings.load(env={}))


def _return(uow_factory, policies, order_ref, quantity, reason, *, receive=None):
    """Authorize `quantity` units of line 1 of the order; receive `receive` of them (all)."""
    view = authorize_return(
        uow_factory,
        policies,
        order_ref=order_ref,
        actor="erp",
        lines=[ReturnLineRequest(line_ref="1", quantity=quantity, reason=reason)],
    )
    arriving = quantity if receive is None else receive
    if not arriving:
        return []
    units = receive_units(
        uow_factory,
        rma=view.rma,
        location="WH1",
        actor="grader",
        lines=[{"line_no": 1, "quantity": arriving}],
    )
    return [u.unit_id for u in units]


def _grade(uow_factory, policies, units, grade, defects=()):
    for unit in units:
        grade_unit(
            uow_factory, policies, unit_id=unit, grade=grade, defects=list(defects), actor="grader"
        )


@pytest.fixture
def tops(uow_factory, policies):
    """Three tops: TEE-FIT runs small in S; TEE-BAD breaks; TEE-OK is fine.

    TEE-FIT sold 20 in each of S, M, L. S: 12 too_small (6 A, 3 B, 2 C, 1 D). M: 1 too_small
    received, 1 too_large authorized but not yet received. L: 1 too_small, 2 changed_mind.
    TEE-BAD sold 20 (8 quality_defect); TEE-OK sold 40 (none back). One TEE-FIT S sale falls
    outside the window asked for.
    """
    warehouse = add_location(uow_factory, "WH1")
    for order, (sku, size, sold) in enumerate(
        [
            ("TEE-FIT", "S", 20),
            ("TEE-FIT", "M", 20),
            ("TEE-FIT", "L", 20),
            ("TEE-BAD", "M", 20),
            ("TEE-OK", "M", 40),
        ]
    ):
        item_id = add_item(uow_factory, sku, size, unit_cost="8.50")
        add_sale(
            uow_factory,
            item_id,
            warehouse,
            order_ref=f"SO-{order}",
            line_ref="1",
            quantity=sold,
            sold_on=SOLD_ON,
        )
    old = add_item(uow_factory, "TEE-FIT", "S")
    add_sale(
        uow_factory, old, warehouse, order_ref="SO-OLD", quantity=5, sold_on=TODAY - timedelta(20)
    )
    _return(uow_factory, policies, "SO-OLD", 5, "too_small")

    small = _return(uow_factory, policies, "SO-0", 12, "too_small")
    _grade(uow_factory, policies, small[:6], "A")
    _grade(uow_factory, policies, small[6:9], "B", ["stain"])
    _grade(uow_factory, policies, small[9:11], "C")
    _grade(uow_factory, policies, small[11:], "D", ["tear"])
    _return(uow_factory, policies, "SO-1", 1, "too_small")
    _return(uow_factory, policies, "SO-1", 1, "too_large", receive=0)
    _return(uow_factory, policies, "SO-2", 1, "too_small")
    _return(uow_factory, policies, "SO-2", 2, "changed_mind")
    _return(uow_factory, policies, "SO-3", 8, "quality_defect")


def _window(since=SOLD_ON - timedelta(days=2), until=TODAY, **filters):
    query = {"since": since.isoformat(), "until": until.isoformat(), **filters}
    return "&".join(f"{k}={v}" for k, v in query.items())


def _sku(body, sku):
    return next(row for row in body["skus"] if row["sku"] == sku)


def _size(body, sku, size):
    return next(row for row in _sku(body, sku)["sizes"] if row["size"] == size)


def test_a_size_with_many_too_small_returns_is_flagged_and_the_others_are_not(client, auth, tops):
    answer = client.get(f"{URL}?{_window()}", headers=auth("planner"))
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert "one Benjamini-Hochberg over every test in the report" in body["test"]
    assert [(s["sku"], s["size"], s["fit"]) for s in body["fit_signals"]] == [
        ("TEE-FIT", "S", "runs_small")
    ]
    [signal] = body["fit_signals"]
    assert (signal["units_sold"], signal["units_returned"]) == (20, 12)
    assert signal["share"] == 0.6 and signal["rest_share"] == 0.05
    assert signal["q_value"] < 0.05 and signal["flagged"] is True
    medium = _size(body, "TEE-FIT", "M")["fit_tests"]
    # No too_large unit has arrived for any size, so only running small is tested.
    assert [(t["fit"], t["units_returned"], t["flagged"]) for t in medium] == [
        ("runs_small", 1, False)
    ]


def test_the_figures_of_a_size_count_its_sales_returns_grades_and_write_offs(client, auth, tops):
    body = client.get(f"{URL}?{_window()}", headers=auth("grader")).json
    small = _size(body, "TEE-FIT", "S")
    assert small["units_sold"] == 20  # the older sale of 5 is outside the window
    assert small["units_returned"] == 12 and small["return_rate"] == 0.6
    assert small["reasons"]["too_small"] == 12 and small["reasons"]["changed_mind"] == 0
    assert small["grades"] == {"A": 6, "B": 3, "C": 2, "D": 1} and small["graded"] == 12
    assert small["restockable_share"] == 0.75
    assert (small["written_off_units"], small["write_off_value"]) == (1, "8.50")
    assert small["median_days_to_receipt"] == 10
    medium = _size(body, "TEE-FIT", "M")
    assert (medium["units_returned"], medium["units_awaiting_receipt"]) == (1, 1)
    assert medium["reasons"]["too_large"] == 0  # authorized, not received
    assert medium["graded"] == 0 and medium["restockable_share"] is None
    sku = _sku(body, "TEE-FIT")
    assert [s["size"] for s in sku["sizes"]] == ["S", "M", "L"]
    assert (sku["units_sold"], sku["units_returned"], sku["units_awaiting_receipt"]) == (60, 16, 1)
    assert sku["return_rate"] == round(16 / 60, 4)
    assert sku["reasons"]["too_small"] == 14 and sku["reasons"]["changed_mind"] == 2
    assert _sku(body, "TEE-OK")["units_returned"] == 0
    assert _sku(body, "TEE-OK")["median_days_to_receipt"] is None


def test_the_answer_is_what_the_documented_schema_dumps(client, auth, tops, app, policies):
    """The handler sends the service's answer without dumping it through the schema: it must
    be exactly what the dump would be (every field, no other, the same types)."""
    body = client.get(f"{URL}?{_window()}", headers=auth("planner")).get_data(as_text=True)
    with app.app_context():
        answer = analytics.returns_analytics(
            extensions.uow_factory(), policies.returns, since=SOLD_ON - timedelta(days=2),
            until=TODAY)
    dumped = ReturnsAnalytics().dump(answer)
    assert json.loads(body) == dumped  # and as JSON text, numbers' types included:
    assert json.dumps(answer, sort_keys=True) == json.dumps(dumped, sort_keys=True)
    assert _size(dumped, "TEE-FIT", "S")["median_days_to_receipt"] == 10  # receipts count


def test_a_sku_whose_quality_returns_stand_out_in_its_category_is_flagged(client, auth, tops):
    body = client.get(f"{URL}?{_window()}", headers=auth("integrator")).json
    assert [(s["sku"], s["category"]) for s in body["quality_signals"]] == [("TEE-BAD", "tops")]
    assert body["quality_signals"][0]["share"] == 0.4
    assert _sku(body, "TEE-OK")["quality_test"]["flagged"] is False
    # Asking for the one SKU still compares it with the rest of its category.
    one = client.get(f"{URL}?{_window(sku='TEE-BAD')}", headers=auth("planner")).json
    assert [row["sku"] for row in one["skus"]] == ["TEE-BAD"]
    assert one["skus"][0]["quality_test"] == body["quality_signals"][0]
    assert one["filters"] == {"sku": "TEE-BAD", "category": None}


def test_the_window_defaults_to_the_last_90_days_and_filters_by_category(client, auth, tops):
    body = client.get(URL, headers=auth("planner")).json
    today = Policies.from_settings(Settings.load(env={})).returns.today()
    assert body["window"] == {
        "since": (today - timedelta(days=89)).isoformat(),
        "until": today.isoformat(),
    }
    assert _size(body, "TEE-FIT", "S")["units_sold"] == 25
    assert client.get(f"{URL}?category=shoes", headers=auth("planner")).json["skus"] == []
    late = client.get(
        f"{URL}?{_window(since=TODAY - timedelta(days=1))}", headers=auth("planner")
    ).json
    assert late["skus"] == [] and late["fit_signals"] == []


def test_a_window_that_ends_before_it_starts_is_a_validation_error(client, auth):
    answer = client.get(f"{URL}?since=2026-05-02&until=2026-05-01", headers=auth("planner"))
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "since"
    assert client.get(f"{URL}?since=yesterday", headers=auth("planner")).status_code == 422


def test_the_default_window_ends_today_on_the_business_calendar_not_the_servers(
        settings, db, auth):
    # 26 hours apart, these two zones never share a date, so one differs from the host's.
    zoned = next(z for z in (_in_zone(settings, "Pacific/Kiritimati"),
                             _in_zone(settings, "Etc/GMT+12"))
                 if Policies.from_settings(z).returns.today() != date.today())
    app = create_app(zoned)
    app.extensions["ri.database"].dispose()
    app.extensions["ri.database"] = db
    body = app.test_client().get(URL, headers=auth("planner")).json
    assert body["window"]["until"] == Policies.from_settings(zoned).returns.today().isoformat()


def _in_zone(settings, zone: str):
    returns = {**settings.policies.get("returns_policy", {}), "calendar": {"timezone": zone}}
    return replace(settings, policies={**settings.policies, "returns_policy": returns})


def test_the_report_comes_in_pages_of_skus_and_a_page_does_not_change_the_figures(
        client, auth, tops):
    whole = client.get(f"{URL}?{_window()}", headers=auth("planner")).json
    assert whole["page"] == {"after": None, "limit": 100, "skus": 3, "next_after": None}
    assert whole["flagged"] == {"fit": 1, "style": len(whole["style_signals"]), "quality": 1}
    pages, after = [], None
    while True:
        query = f"{URL}?{_window()}&limit=2" + (f"&after={after}" if after else "")
        page = client.get(query, headers=auth("planner")).json
        pages.append(page)
        after = page["page"]["next_after"]
        if after is None:
            break
    assert [[row["sku"] for row in p["skus"]] for p in pages] == [
        ["TEE-BAD", "TEE-FIT"], ["TEE-OK"]]
    # Every test is still corrected with the whole report's: same rows, same q-values.
    assert [row for p in pages for row in p["skus"]] == whole["skus"]
    assert all(p["tests_made"] == whole["tests_made"] for p in pages)
    assert pages[0]["quality_signals"] == whole["quality_signals"]
    assert pages[1]["quality_signals"] == [] and pages[1]["flagged"] == whole["flagged"]


def test_a_page_size_out_of_bounds_is_a_problem_naming_the_field(client, auth):
    for limit in ("0", "501", "many"):
        answer = client.get(f"{URL}?limit={limit}", headers=auth("planner"))
        assert answer.status_code == 422, limit
        assert answer.json["errors"][0]["field"] == "limit"


def _forget_reports(uow_factory):
    """Drop every stored report: the next read computes its own."""
    with uow_factory() as uow:
        uow.stored_reports.drop([r["id"] for r in uow.stored_reports.every()])
        uow.commit()


def test_a_return_received_after_the_report_was_computed_shows_once_it_is_refreshed(
        client, auth, tops, uow_factory, policies):
    first = client.get(f"{URL}?{_window()}", headers=auth("planner")).json
    assert first["report"]["current"] is True
    _return(uow_factory, policies, "SO-4", 3, "quality_defect")
    # Served as computed, saying that returns came in since.
    stale = client.get(f"{URL}?{_window()}", headers=auth("planner")).json
    assert stale["report"] == {**first["report"], "current": False}
    assert _size(stale, "TEE-OK", "M")["units_returned"] == 0
    analytics.refresh_returns_reports(uow_factory, policies.returns)  # the scheduler's job
    fresh = client.get(f"{URL}?{_window()}", headers=auth("planner")).json
    assert fresh["report"]["current"] is True
    assert fresh["report"]["computed_at"] > first["report"]["computed_at"]
    assert _size(fresh, "TEE-OK", "M")["units_returned"] == 3
    assert _size(fresh, "TEE-OK", "M")["reasons"]["quality_defect"] == 3


def test_a_report_older_than_the_policys_age_is_computed_again_by_the_read(
        uow_factory, tops, policies):
    since = SOLD_ON - timedelta(days=2)
    strict = replace(policies.returns, report_max_age_minutes=0)

    def read(policy):
        return analytics.returns_analytics(uow_factory, policy, since=since, until=TODAY)

    read(strict)
    _return(uow_factory, policies, "SO-4", 3, "quality_defect")
    assert _size(read(policies.returns), "TEE-OK", "M")["units_returned"] == 0
    again = read(strict)
    assert again["report"]["current"] is True
    assert _size(again, "TEE-OK", "M")["units_returned"] == 3


def test_reports_the_job_cuts_from_the_whole_window_equal_reports_computed_alone(
        client, auth, tops, uow_factory, policies):
    with uow_factory() as uow:
        warehouse = uow.connection.execute(select(locations.c.id)).scalar_one()
    add_sale(uow_factory, item_id_of(uow_factory, "TEE-OK"), warehouse,
             order_ref="SO-5", line_ref="1", quantity=6, sold_on=SOLD_ON)
    add_sale(uow_factory, add_item(uow_factory, "SHOE-1", "42", category="shoes"),
             warehouse, order_ref="SO-6", line_ref="1", quantity=3, sold_on=SOLD_ON)
    _return(uow_factory, policies, "SO-5", 4, "too_large")
    _return(uow_factory, policies, "SO-2", 5, "quality_defect")
    done = analytics.refresh_returns_reports(uow_factory, policies.returns)
    assert done["refreshed"] >= 3  # every category, and tops and shoes alone
    # A second pass finds nothing changed and computes nothing.
    assert analytics.refresh_returns_reports(uow_factory, policies.returns)["refreshed"] == 0
    reads = ("", "?category=tops", "?category=shoes", "?sku=TEE-OK")
    by_job = [client.get(URL + q, headers=auth("planner")).json for q in reads]
    _forget_reports(uow_factory)
    alone = [client.get(URL + q, headers=auth("planner")).json for q in reads]
    for job, read in zip(by_job, alone, strict=True):
        assert job["report"]["current"] and read["report"]["current"]
        assert {**job, "report": None} == {**read, "report": None}
    assert _size(by_job[1], "TEE-OK", "M")["units_sold"] == 46
    assert _size(by_job[1], "TEE-OK", "M")["reasons"]["too_large"] == 4
    assert [row["sku"] for row in by_job[2]["skus"]] == ["SHOE-1"]
    # A return of a top: the next pass rewrites the reports it changes and only stamps the
    # shoes' again, whose figures are the same.
    analytics.refresh_returns_reports(uow_factory, policies.returns)  # every default report
    with uow_factory() as uow:
        ids = {(r["since"], r["until"], r["family"]): r["id"]
               for r in uow.stored_reports.every()}
    _return(uow_factory, policies, "SO-5", 1, "too_small")
    done = analytics.refresh_returns_reports(uow_factory, policies.returns)
    with uow_factory() as uow:
        now = {(r["since"], r["until"], r["family"]): r for r in uow.stored_reports.every()}
    assert now.keys() == ids.keys()
    shoes = [key for key in now if key[2] == '["shoes"]']
    assert shoes and all(now[key]["id"] == ids[key] for key in shoes)
    assert all(now[key]["id"] != ids[key] for key in now if key[2] != '["shoes"]')
    assert done["rewritten"] == len(now) - len(shoes) < done["refreshed"] == len(now)
    fresh = client.get(URL + "?category=shoes", headers=auth("planner")).json
    assert fresh["report"]["current"] is True
    assert {**fresh, "report": None} == {**by_job[2], "report": None}


def test_the_heat_map_shows_the_worst_skus_and_the_surest_flags_within_its_bounds(
        uow_factory, policies, tops, monkeypatch):
    since = SOLD_ON - timedelta(days=2)

    def heat_map(most):
        return analytics.returns_heat_map(uow_factory, policies.returns, since=since,
                                          until=TODAY, category=None, most=most)

    whole = heat_map(60)
    assert [row["sku"] for row in whole["skus"]] == sorted(
        ["TEE-FIT", "TEE-BAD", "TEE-OK"], key=lambda s: -_sku(whole, s)["shrunk_return_rate"])
    assert whole["skus_total"] == 3 and whole["reasons"]["too_small"] == 14
    assert [(t["sku"], t["size"]) for t in whole["fit_signals"]] == [("TEE-FIT", "S")]
    worst = heat_map(1)
    assert [row["sku"] for row in worst["skus"]] == [whole["skus"][0]["sku"]]
    assert worst["flagged"] == whole["flagged"] and worst["skus_total"] == 3
    monkeypatch.setattr(stored_reports, "SHOWN_SIGNALS", 0)  # as the report is computed
    _forget_reports(uow_factory)
    bounded = heat_map(60)
    assert bounded["fit_signals"] == bounded["quality_signals"] == []
    assert bounded["flagged"]["fit"] == 1 and bounded["flagged"]["quality"] == 1


def test_a_report_another_process_stored_first_is_served_as_theirs(
        uow_factory, tops, policies, monkeypatch):
    since = SOLD_ON - timedelta(days=2)
    theirs = analytics.returns_analytics(uow_factory, policies.returns, since=since,
                                         until=TODAY)
    _return(uow_factory, policies, "SO-4", 3, "quality_defect")

    def beaten(*args, **kwargs):  # the other process's insert committed first
        raise Conflict("another process stored this report first")

    monkeypatch.setattr(StoredReportRepository, "replace", beaten)
    mine = analytics.returns_analytics(uow_factory, replace(policies.returns,
                                                            report_max_age_minutes=0),
                                       since=since, until=TODAY)
    assert mine["report"]["computed_at"] == theirs["report"]["computed_at"]
    # Their report's figures (the grades and receipt days of a page are read as it is served).
    assert _size(mine, "TEE-OK", "M")["units_returned"] == 0
    assert mine["quality_signals"] == theirs["quality_signals"]


def test_every_window_the_planner_page_offers_is_computed_by_the_job_before_anyone_reads_it(
        uow_factory, tops, policies, monkeypatch):
    analytics.refresh_returns_reports(uow_factory, policies.returns)  # the scheduler's job
    last = analytics.latest_sale_day(uow_factory)
    assert last == SOLD_ON

    def computed_by_the_read(*args, **kwargs):
        raise AssertionError("the read computed a report the job should have stored")

    monkeypatch.setattr(analytics, "compute_report", computed_by_the_read)
    for days in analytics.PAGE_WINDOW_DAYS:
        since = last - timedelta(days=days - 1)
        for category in (None, "tops"):
            found = analytics.returns_heat_map(uow_factory, policies.returns, since=since,
                                               until=last, category=category, most=60)
            assert found["report"]["current"] is True
            assert found["skus_total"] == 3
    # And the API's default window, ending today.
    assert analytics.returns_analytics(uow_factory, policies.returns)["page"]["skus"] == 3


def _reports_took(uow_factory, ms: int) -> None:
    """As on a large catalogue: the stored reports of every category took `ms` to compute."""
    with uow_factory() as uow:
        uow.connection.execute(returns_reports.update().values(compute_ms=ms))
        uow.commit()


@pytest.fixture
def asked(monkeypatch):
    """The background computations the reads asked for, run when the test says."""
    queued: list = []
    monkeypatch.setattr(report_requests, "in_background", queued.append)
    return queued


NEW_WINDOW = _window(since=SOLD_ON - timedelta(days=3), until=TODAY - timedelta(days=1))


def test_a_window_nobody_asked_for_is_computed_in_the_background_and_then_served(
        client, auth, tops, uow_factory, policies, asked):
    analytics.refresh_returns_reports(uow_factory, policies.returns)  # the default windows
    _reports_took(uow_factory, 4200)
    first = client.get(f"{URL}?{NEW_WINDOW}&category=tops", headers=auth("planner"))
    assert first.status_code == 202
    assert first.headers["Retry-After"] == "5" and first.json["retry_after"] == 5
    assert first.json["state"] == "computing"
    assert first.json["window"] == {"since": (SOLD_ON - timedelta(days=3)).isoformat(),
                                    "until": (TODAY - timedelta(days=1)).isoformat()}
    assert first.json["filters"] == {"sku": None, "category": "tops"}
    assert first.json["poll"] == f"{URL}?{NEW_WINDOW}&category=tops"
    assert len(asked) == 1
    # Read again before it is done: still computing, and not asked for twice.
    again = client.get(first.json["poll"], headers=auth("planner"))
    assert again.status_code == 202 and again.json["requested_at"] == first.json["requested_at"]
    assert len(asked) == 1
    asked.pop()()  # the background computation
    done = client.get(first.json["poll"], headers=auth("planner"))
    assert done.status_code == 200 and done.json["report"]["current"] is True
    assert _size(done.json, "TEE-FIT", "S")["units_sold"] == 20
    # The same figures as the report computed while the reader waits.
    _forget_reports(uow_factory)
    direct = client.get(first.json["poll"], headers=auth("planner"))
    assert direct.status_code == 200 and not asked
    assert {**done.json, "report": None} == {**direct.json, "report": None}


def test_concurrent_first_reads_of_a_window_start_one_computation(
        tops, uow_factory, policies, asked):
    analytics.refresh_returns_reports(uow_factory, policies.returns)
    _reports_took(uow_factory, 4200)
    since, until = SOLD_ON - timedelta(days=5), TODAY - timedelta(days=2)
    start = threading.Barrier(4)

    def read(_):
        start.wait()
        return analytics.returns_analytics(uow_factory, policies.returns, since=since,
                                           until=until)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(read, range(4)))
    assert all(isinstance(a, ReportComputing) for a in answers)
    assert len(asked) == 1
    asked.pop()()
    served = analytics.returns_analytics(uow_factory, policies.returns, since=since,
                                         until=until)
    assert not isinstance(served, ReportComputing) and served["page"]["skus"] == 3


def test_a_claim_whose_computation_died_is_taken_over_by_the_next_read(
        tops, uow_factory, policies, asked):
    analytics.refresh_returns_reports(uow_factory, policies.returns)
    _reports_took(uow_factory, 4200)
    since = SOLD_ON - timedelta(days=4)
    analytics.returns_analytics(uow_factory, policies.returns, since=since, until=TODAY)
    asked.clear()  # its process died: the computation never ran
    with uow_factory() as uow:
        uow.connection.execute(returns_reports.update().where(
            returns_reports.c.stamp == COMPUTING).values(
            computed_at=datetime.now(UTC) - timedelta(minutes=report_requests.CLAIM_MINUTES + 1)))
        uow.commit()
    later = analytics.returns_analytics(uow_factory, policies.returns, since=since, until=TODAY)
    assert isinstance(later, ReportComputing) and len(asked) == 1
    asked.pop()()
    assert analytics.returns_analytics(uow_factory, policies.returns, since=since,
                                       until=TODAY)["page"]["skus"] == 3


def test_a_window_computed_in_a_background_thread_is_served_once_stored(
        client, auth, tops, uow_factory, policies, monkeypatch):
    analytics.refresh_returns_reports(uow_factory, policies.returns)
    _reports_took(uow_factory, 4200)
    futures: list = []
    real = report_requests.in_background
    monkeypatch.setattr(report_requests, "in_background", lambda work: futures.append(
        real(work)))
    first = client.get(f"{URL}?{NEW_WINDOW}", headers=auth("planner"))
    assert first.status_code == 202 and len(futures) == 1
    futures[0].result(timeout=120)
    done = client.get(first.json["poll"], headers=auth("planner"))
    assert done.status_code == 200 and done.json["page"]["skus"] == 3


def test_an_out_of_date_report_too_long_to_wait_for_is_served_as_it_is(
        tops, uow_factory, policies, asked):
    since = SOLD_ON - timedelta(days=2)
    strict = replace(policies.returns, report_max_age_minutes=0)
    first = analytics.returns_analytics(uow_factory, strict, since=since, until=TODAY)
    _return(uow_factory, policies, "SO-4", 3, "quality_defect")
    _reports_took(uow_factory, 4200)
    stale = analytics.returns_analytics(uow_factory, strict, since=since, until=TODAY)
    assert stale["report"] == {**first["report"], "current": False}
    assert _size(stale, "TEE-OK", "M")["units_returned"] == 0 and not asked


def test_the_job_keeps_each_category_of_a_default_window_a_read_computed_whole_first(
        client, auth, uow_factory, tops, policies, monkeypatch):
    # The ERP read the API's default window before the job's first pass (a new install):
    # the read stored the whole report, and the job must still cut each category's.
    assert client.get(URL, headers=auth("integrator")).status_code == 200
    analytics.refresh_returns_reports(uow_factory, policies.returns)  # the scheduler's job

    def computed_by_the_read(*args, **kwargs):
        raise AssertionError("the read computed a report the job should have stored")

    monkeypatch.setattr(analytics, "compute_report", computed_by_the_read)
    answer = client.get(f"{URL}?category=tops", headers=auth("integrator"))
    assert answer.status_code == 200
    assert answer.json["report"]["current"] is True and answer.json["page"]["skus"] == 3


def test_a_category_longer_than_any_items_is_a_problem_naming_it_not_a_failure(client, auth):
    # Stored as the report's family when its report is computed: PostgreSQL refused 600
    # characters there, a 500.
    answer = client.get(f"{URL}?category={'x' * 65}", headers=auth("integrator"))
    assert answer.status_code == 422
    assert answer.json["errors"][0]["field"] == "category"


def test_the_job_keeps_only_the_other_windows_computed_last_up_to_date(
        client, auth, tops, uow_factory, policies):
    """An API client that asked for many windows cannot make every pass of the job compute
    them all again: beyond `report_windows_kept` the ones computed longest ago are dropped
    when their data changes, and their next read computes them again."""
    analytics.refresh_returns_reports(uow_factory, policies.returns)  # the default windows
    asked = [SOLD_ON - timedelta(days=days) for days in (3, 4, 5)]  # read in this order
    for since in asked:
        answer = client.get(f"{URL}?{_window(since=since)}", headers=auth("planner"))
        assert answer.status_code == 200, answer.json
    keep_one = replace(policies.returns, report_windows_kept=1)
    assert analytics.refresh_returns_reports(uow_factory, keep_one)["dropped"] == 0  # current

    _return(uow_factory, policies, "SO-4", 2, "too_small")  # their data changes
    done = analytics.refresh_returns_reports(uow_factory, keep_one)
    with uow_factory() as uow:
        kept = {r["since"] for r in uow.stored_reports.every() if r["until"] == TODAY}
    assert done["dropped"] == 2
    assert asked[-1] in kept and not kept & set(asked[:-1])
    # A dropped window is computed again by its next read, with the return counted.
    again = client.get(f"{URL}?{_window(since=asked[0], sku='TEE-OK')}", headers=auth("planner"))
    assert again.status_code == 200, again.json
    assert _size(again.json, "TEE-OK", "M")["units_returned"] == 2
