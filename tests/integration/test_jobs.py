"""The scheduler's lease, its housekeeping jobs, and two real scheduler processes side by side."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import select

from returns_inventory.jobs.scheduler import JobRunner, job_specs
from returns_inventory.persistence.people_tables import job_leases
from returns_inventory.persistence.planning_tables import forecast_runs
from returns_inventory.persistence.returns_tables import exchanges
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.analytics import refresh_returns_reports
from returns_inventory.services.forecast_runs import RunRequest, start_run
from returns_inventory.services.leases import run_exclusively
from returns_inventory.services.policies import Policies
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.run_guard import RUN_LEASE
from returns_inventory.services.run_requests import request_run
from returns_inventory.services.stock import verify_ledger
from returns_inventory.settings import PROJECT_ROOT
from tests.factories import add_item, add_location, add_sale, stock_up, weekly_sock_sales
from tests.integration.scheduler_probe import probe_runs

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _acquire(uow_factory, holder, now, *, lease=MINUTE, tick=None):
    with uow_factory() as uow:
        got = uow.leases.acquire("nightly", holder, now=now, expires_at=now + lease,
                                 not_before=tick or now)
        uow.commit()
    return got


def _release(uow_factory, holder, now):
    with uow_factory() as uow:
        released = uow.leases.release("nightly", holder, now=now)
        uow.commit()
    return released


def test_a_lease_has_one_holder_until_it_expires_then_another_takes_it_over(uow_factory):
    assert _acquire(uow_factory, "host-a:1", T0)
    assert not _acquire(uow_factory, "host-b:2", T0 + timedelta(seconds=30))
    # Host a died without releasing: once the lease expires, b takes over.
    assert _acquire(uow_factory, "host-b:2", T0 + 2 * MINUTE)
    # a's late release must not end b's lease.
    assert not _release(uow_factory, "host-a:1", T0 + 2 * MINUTE)
    assert not _acquire(uow_factory, "host-a:1", T0 + 2 * MINUTE + timedelta(seconds=1))
    with uow_factory() as uow:
        lease = uow.leases.get("nightly")
    assert (lease["holder"], lease["expires_at"]) == ("host-b:2", T0 + 3 * MINUTE)


def test_a_released_lease_stays_taken_for_the_tick_it_ran(uow_factory):
    tick = T0
    assert _acquire(uow_factory, "host-a:1", tick + timedelta(seconds=1), tick=tick)
    assert _release(uow_factory, "host-a:1", tick + timedelta(seconds=2))
    # b fires the same tick a moment later: the job already ran for it.
    assert not _acquire(uow_factory, "host-b:2", tick + timedelta(seconds=3), tick=tick)
    # The next tick is b's to take.
    next_tick = tick + 5 * MINUTE
    assert _acquire(uow_factory, "host-b:2", next_tick, tick=next_tick)


def test_of_many_schedulers_asking_at_once_exactly_one_gets_the_lease(committing_db):
    uow_factory = partial(UnitOfWork, committing_db)
    barrier = threading.Barrier(8)
    won = []

    def ask(n):
        barrier.wait()
        if _acquire(uow_factory, f"host-{n}:1", T0):
            won.append(n)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(won) == 1


def test_a_job_without_the_lease_skips_and_says_so(uow_factory, caplog):
    assert _acquire(uow_factory, "host-a:1", T0, lease=timedelta(hours=1))
    calls = []
    with caplog.at_level("INFO", logger="returns_inventory.services.leases"):
        ran, _ = run_exclusively(uow_factory, "nightly", lambda: calls.append(1),
                                 holder="host-b:2", lease=MINUTE, tick=T0, now=T0 + MINUTE)
    assert (ran, calls) == (False, [])
    assert "job nightly skipped" in caplog.text


def test_the_expiry_job_releases_a_reservation_past_its_expiry(uow_factory, settings):
    policies = Policies.from_settings(settings)
    item_id = add_item(uow_factory, "TEE", "M")
    add_item(uow_factory, "TEE", "L")
    location_id = add_location(uow_factory, "WH1")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-1")
    stock_up(uow_factory, "TEE", "L", "WH1", 2)
    view = authorize_return(uow_factory, policies, order_ref="SO-1", actor="erp", lines=[
        ReturnLineRequest(line_ref="1", quantity=1, reason="too_small", resolution="exchange",
                          exchange_size="L")])
    [exchange] = view.exchanges
    with uow_factory() as uow:
        uow.connection.execute(exchanges.update().where(exchanges.c.id == exchange["id"])
                               .values(expires_at=datetime.now(UTC) - MINUTE))
        uow.commit()

    runner = JobRunner(settings, uow_factory, job_specs(settings), holder="test:1")
    assert runner("release-expired-reservations")

    with uow_factory() as uow:
        status = uow.connection.scalar(
            select(exchanges.c.status).where(exchanges.c.id == exchange["id"]))
        sellable = uow.stock.list_balances(offset=0, limit=1, sku="TEE", size="L",
                                           condition="sellable")[0][0]
        released = uow.events.after(0, 100, "exchange.released")
        lease = uow.leases.get("release-expired-reservations")
    assert status == "released"
    assert (sellable.on_hand, sellable.reserved) == (2, 0)
    assert [e.payload["exchange_id"] for e in released] == [exchange["id"]]
    assert released[0].actor == "job:exchange-expiry"
    assert lease["expires_at"] <= datetime.now(UTC)  # released at the end of the run
    assert verify_ledger(uow_factory) == []


def test_the_returns_reports_job_stores_the_default_windows_and_then_finds_nothing_to_do(
        uow_factory, settings):
    location_id = add_location(uow_factory, "WH1")
    for sku, category in (("TEE", "tops"), ("BOOT", "shoes")):
        add_sale(uow_factory, add_item(uow_factory, sku, "M", category=category), location_id,
                 order_ref=f"SO-{sku}", quantity=4,
                 sold_on=datetime.now(UTC).date() - timedelta(days=3))
    runner = JobRunner(settings, uow_factory, job_specs(settings), holder="test:1")
    assert runner("returns-reports")
    with uow_factory() as uow:
        stored = {(r["until"], r["family"]) for r in uow.stored_reports.every()}
    today = Policies.from_settings(settings).returns.today()
    last_sale = datetime.now(UTC).date() - timedelta(days=3)
    # Both default windows (the API's, ending today; the planner page's, ending on the last
    # sale day), of every category and of each.
    assert stored == {(until, family) for until in (today, last_sale)
                      for family in ("", '["shoes"]', '["tops"]')}
    with uow_factory() as uow:
        before = uow.stored_reports.every()
    # The next tick, nothing having changed, computes nothing.
    policy = Policies.from_settings(settings).returns
    assert refresh_returns_reports(uow_factory, policy) == {
        "refreshed": 0, "rewritten": 0, "dropped": 0}
    with uow_factory() as uow:
        assert uow.stored_reports.every() == before


def test_a_tick_first_reaps_a_run_whose_process_stopped_beating_and_takes_over_its_lease(
        uow_factory, settings):
    weekly_sock_sales(uow_factory, T0.date())
    stuck = start_run(uow_factory, settings, RunRequest(as_of=T0.date(), actor="job:x",
                                                        runner="dead-host:1"))
    silent = datetime.now(UTC) - timedelta(hours=1)
    with uow_factory() as uow:
        uow.connection.execute(forecast_runs.update().where(forecast_runs.c.id == stuck)
                               .values(heartbeat_at=silent))
        # The dead scheduler was running this job when it died; its lease lasts six hours.
        assert uow.leases.acquire("release-expired-reservations", "dead-host:1", now=silent,
                                  expires_at=silent + timedelta(hours=6), not_before=silent)
        uow.commit()

    runner = JobRunner(settings, uow_factory, job_specs(settings), holder="survivor:2")
    assert runner("release-expired-reservations")

    with uow_factory() as uow:
        run = uow.planning.run(stuck)
        run_lease = uow.leases.get(RUN_LEASE)
    assert (run["status"], run["error"]) == (
        "failed", "lost: the process running it stopped beating")
    assert run_lease["expires_at"] <= datetime.now(UTC)
    # With the run lease free, a manual start works again.
    assert start_run(uow_factory, settings, RunRequest(as_of=T0.date(), actor="cli:x"))


def _silence(uow_factory, run_id):
    with uow_factory() as uow:
        uow.connection.execute(forecast_runs.update().where(forecast_runs.c.id == run_id)
                               .values(heartbeat_at=datetime.now(UTC) - timedelta(hours=1)))
        uow.commit()


def test_a_lost_nightly_run_is_asked_for_again_and_a_lost_manual_one_is_not(
        uow_factory, settings):
    weekly_sock_sales(uow_factory, T0.date())
    manual = start_run(uow_factory, settings, RunRequest(as_of=T0.date(), actor="api:anna",
                                                         trigger="api", runner="dead:1"))
    _silence(uow_factory, manual)
    JobRunner(settings, uow_factory, job_specs(settings), holder="survivor:2")(
        "release-expired-reservations")
    with uow_factory() as uow:
        assert uow.runs.open_runs() == []  # the planner who asked can ask again

    nightly = start_run(uow_factory, settings, RunRequest(
        as_of=T0.date(), actor="job:nightly-forecast", trigger="schedule", runner="dead:1"))
    _silence(uow_factory, nightly)
    JobRunner(settings, uow_factory, job_specs(settings), holder="survivor:2")(
        "release-expired-reservations")
    with uow_factory() as uow:
        [again] = uow.runs.open_runs()
        assert uow.planning.run(nightly)["status"] == "failed"
    assert (again["status"], again["as_of"], again["trigger"], again["actor"]) == (
        "requested", T0.date(), "schedule", "job:nightly-forecast")


def test_a_beating_run_is_left_alone(uow_factory, settings):
    weekly_sock_sales(uow_factory, T0.date())
    running = start_run(uow_factory, settings, RunRequest(as_of=T0.date(), actor="job:x",
                                                          runner="busy-host:1"))
    runner = JobRunner(settings, uow_factory, job_specs(settings), holder="other:2")
    runner("release-expired-reservations")
    with uow_factory() as uow:
        assert uow.planning.run(running)["status"] == "running"


def test_the_shipped_schedule_has_stable_ids_and_single_coalesced_runs(settings):
    from returns_inventory.jobs.scheduler import build_scheduler

    scheduler = build_scheduler(settings, uow_factory=None, holder="test:1")
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"release-expired-reservations", "purge-idempotency-keys",
            "run-requested-forecasts"} <= set(jobs)
    for job in jobs.values():
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time > 0


# --- two real scheduler processes -------------------------------------------------------------

SCHEDULES = """
[scheduler]
timezone = "UTC"

[jobs.probe]
function = "tests.integration.scheduler_probe:record_run"
every_seconds = 1
misfire_grace_seconds = 1
lease_seconds = 30

[jobs.slow-probe]
function = "tests.integration.scheduler_probe:record_slow_run"
every_seconds = 1
misfire_grace_seconds = 1
lease_seconds = 30

[jobs.release-expired-reservations]
every_seconds = 1
misfire_grace_seconds = 1
"""


def test_two_scheduler_processes_run_each_tick_of_a_job_once(committing_db, tmp_path):
    probe_runs.create(committing_db.engine)
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / "schedules.toml").write_text(SCHEDULES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RI_")}
    env.update(
        RI_DATABASE_URL=committing_db.engine.url.render_as_string(hide_password=False),
        RI_CONFIG_DIR=str(config),
        RI_INSTANCE_PATH=str(tmp_path / "instance"),
        RI_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    logs = [tmp_path / f"scheduler-{n}.log" for n in (1, 2)]
    processes = []
    for log_path in logs:
        with log_path.open("w") as log:
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "returns_inventory.jobs"], cwd=PROJECT_ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    try:
        deadline = time.monotonic() + 60
        while not all("Scheduler started" in p.read_text() for p in logs):
            assert all(p.poll() is None for p in processes), [p.read_text() for p in logs]
            assert time.monotonic() < deadline, [p.read_text() for p in logs]
            time.sleep(0.1)
        time.sleep(5)  # both schedulers firing every second
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
    text = [p.read_text() for p in logs]
    assert all(p.returncode == 0 for p in processes), text
    assert not any("Traceback" in t for t in text), text

    with committing_db.engine.connect() as connection:
        runs = connection.execute(select(probe_runs)).all()
        leases = connection.execute(select(job_leases)).all()
    per_tick = Counter((r.job_id, _second(r.ran_at)) for r in runs)
    doubled = {tick: n for tick, n in per_tick.items() if n > 1}
    assert doubled == {}, f"ran more than once in a tick: {doubled}"
    for job_id in ("probe", "slow-probe"):
        assert sum(1 for job, _ in per_tick if job == job_id) >= 3
    assert {r.pid for r in runs} <= {p.pid for p in processes}
    # Both were really competing: every tick, one of them found the job taken and skipped.
    skipped = [len(re.findall(r"job (?:slow-)?probe skipped", t)) for t in text]
    assert sum(skipped) >= 3, text
    # Stopped with SIGTERM, each scheduler let its running jobs finish and released the lease.
    assert {lease.job_id for lease in leases} >= {"probe", "slow-probe"}
    assert all(_aware(lease.expires_at) <= datetime.now(UTC) for lease in leases)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _second(value: datetime) -> datetime:
    return _aware(value).replace(microsecond=0)


# --- a scheduler killed mid-run -----------------------------------------------------------

KILL_SCHEDULES = """
[scheduler]
timezone = "UTC"

[jobs.run-requested-forecasts]
function = "tests.integration.scheduler_probe:run_requested_held"
every_seconds = 1
misfire_grace_seconds = 1
lease_seconds = 3600
"""
# Fast heartbeats and a short silence: the survivor reaps within seconds.
RUN_TIMES = {"heartbeat_seconds = 30": "heartbeat_seconds = 0.2",
             "lost_after_seconds = 300": "lost_after_seconds = 3",
             "misfire_grace_seconds = 3600": "misfire_grace_seconds = 3600\nenabled = false"}


def _wait_for(what, predicate, processes, logs, seconds=120):
    deadline = time.monotonic() + seconds
    while not (found := predicate()):
        assert time.monotonic() < deadline, (what, [p.read_text() for p in logs])
        assert all(p.poll() is None for p in processes.values()), [p.read_text() for p in logs]
        time.sleep(0.1)
    return found


def test_a_scheduler_killed_mid_run_is_reaped_and_the_survivor_runs_the_next(
        committing_db, tmp_path):
    factory = partial(UnitOfWork, committing_db)
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / "schedules.toml").write_text(KILL_SCHEDULES)
    forecasting = (config / "forecasting.toml").read_text()
    for shipped, fast in RUN_TIMES.items():
        assert shipped in forecasting
        forecasting = forecasting.replace(shipped, fast)
    (config / "forecasting.toml").write_text(forecasting)
    hold = tmp_path / "hold"
    hold.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RI_")}
    env.update(
        RI_DATABASE_URL=committing_db.engine.url.render_as_string(hide_password=False),
        RI_CONFIG_DIR=str(config), RI_INSTANCE_PATH=str(tmp_path / "instance"),
        RI_LOG_LEVEL="INFO", PYTHONUNBUFFERED="1", PROBE_HOLD_FILE=str(hold),
    )
    from returns_inventory.settings import Settings

    settings = Settings.load(env=env)
    weekly_sock_sales(factory, T0.date() - timedelta(days=7))
    first = request_run(factory, settings, RunRequest(as_of=T0.date(), actor="api:test",
                                                      trigger="api"))

    logs = [tmp_path / f"scheduler-{n}.log" for n in (1, 2)]
    processes = {}
    for log_path in logs:
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "returns_inventory.jobs"], cwd=PROJECT_ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            processes[process.pid] = process
    try:
        def running():
            with factory() as uow:
                run = uow.planning.run(first["id"])
            return run if run["status"] == "running" and run["heartbeat_at"] else None

        run = _wait_for("the first run starts", running, processes, logs)
        victim = int(run["runner"].rsplit(":", 1)[1])
        assert victim in processes
        processes[victim].send_signal(signal.SIGKILL)
        processes[victim].wait(timeout=30)
        hold.unlink()  # the survivor's runs go through
        [survivor] = [pid for pid in processes if pid != victim]
        survivors = {survivor: processes[survivor]}

        def reaped():
            with factory() as uow:
                run = uow.planning.run(first["id"])
            return run if run["status"] != "running" else None

        lost = _wait_for("the survivor reaps the run", reaped, survivors, logs)
        assert (lost["status"], lost["error"]) == (
            "failed", "lost: the process running it stopped beating")
        with factory() as uow:
            leases = {job: uow.leases.get(job)
                      for job in (RUN_LEASE, "run-requested-forecasts")}
        assert all(_aware(lease["expires_at"]) <= datetime.now(UTC)
                   or lease["holder"].endswith(f":{survivor}") for lease in leases.values())

        second = request_run(factory, settings, RunRequest(as_of=T0.date(), actor="api:test",
                                                           trigger="api"))

        def finished():
            with factory() as uow:
                run = uow.planning.run(second["id"])
            return run if run["status"] in ("succeeded", "failed") else None

        done = _wait_for("the survivor runs the next request", finished, survivors, logs)
        assert done["status"] == "succeeded", done
        assert done["runner"].endswith(f":{survivor}")
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            process.wait(timeout=30)
    survivor_log = next(p.read_text() for p in logs if f":{survivor}:" in p.read_text()
                        or f":{survivor} " in p.read_text())
    assert f"forecast run {first['id']} lost" in survivor_log
