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

from returns_inventory.jobs.leases import run_exclusively
from returns_inventory.jobs.scheduler import JobRunner, job_specs
from returns_inventory.persistence.people_tables import job_leases
from returns_inventory.persistence.returns_tables import exchanges
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.policies import Policies
from returns_inventory.services.returns import ReturnLineRequest, authorize_return
from returns_inventory.services.stock import verify_ledger
from returns_inventory.settings import PROJECT_ROOT
from tests.factories import add_item, add_location, add_sale, stock_up
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
    with caplog.at_level("INFO", logger="returns_inventory.jobs.leases"):
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


def test_the_shipped_schedule_has_stable_ids_and_single_coalesced_runs(settings):
    from returns_inventory.jobs.scheduler import build_scheduler

    scheduler = build_scheduler(settings, uow_factory=None, holder="test:1")
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {"release-expired-reservations", "purge-idempotency-keys"} <= set(jobs)
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
