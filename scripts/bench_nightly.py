#!/usr/bin/env python3
"""Time the whole nightly run (read, forecast, write) on N series of synthetic history.

    scripts/bench_nightly.py --series 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    scripts/bench_nightly.py --series 20000 --database-url ... --executor dask --workers 2
    scripts/bench_nightly.py --series 2000 --database-url sqlite:////tmp/bench.sqlite3

A PostgreSQL URL names the server: a fresh database is created there, migrated, loaded and
dropped afterwards (unless --keep, which keeps it as soon as it is loaded). The history (104
weeks from forecasting.synthetic: weekly sales, returns with reasons, grades and receipt dates,
stock) goes in set-based (scripts/nightly_history.py), because loading is not what is measured.
The run is the real `run_forecast`, in a fresh process so its memory high-water mark is the
run's own. Printed: its recorded phase timings, series/s, peak memory (this process and its
children, overall and per phase), the CPU seconds of this process per phase (they do not
stretch when others load the machine; wall time does), the CPU and memory of the PostgreSQL
backends serving the run, the load average, and the cores the whole machine kept busy.
Executors and worker counts are compared, per process and against the machine's ceiling, by
scripts/bench_executors.py. --loaded times runs on a database an earlier --keep run loaded, without
loading it again; --load-only loads and stops.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nightly_history import load_history  # noqa: E402
from nightly_watch import BackendWatch, PhaseMemory, peak_mib, print_run  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from returns_inventory.persistence import migrate  # noqa: E402
from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services.forecast_runs import RunRequest, run_forecast  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402


def fresh_database(server_url: str, prefix: str = "ri_bench") -> tuple[str, object]:
    url = make_url(server_url)
    if url.get_backend_name() == "sqlite":
        return server_url, None
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), (admin, name)


def drop_database(handle) -> None:
    if handle is None:
        return
    admin, name = handle
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def dask_cluster(executor: str, workers: int, address: str | None):
    """A running Dask scheduler's address: the given one, or a LocalCluster started now.

    Started before the clock runs, so the figure is the run on a cluster that is up, as a
    nightly run on a standing cluster would be, not the seconds it takes to spawn workers.
    """
    if executor != "dask" or address:
        yield address
        return
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def busy_core_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (every process: this driver, the Dask
    workers, PostgreSQL's backends)."""
    import psutil  # the test extra installs it

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def time_run(url: str, as_of: date, workers: int, executor: str,
             scheduler_address: str | None = None) -> dict:
    """Run the nightly job once and print its figures. Call it through ``fresh`` so the
    process's memory high-water mark is the run's, not the loading's."""
    settings = Settings.load(database_url=url, secret_key="bench")
    database = Database(make_engine(url))
    try:
        request = RunRequest(as_of=as_of, actor="bench", trigger="cli", workers=workers,
                             executor=executor, scheduler_address=scheduler_address)
        with contextlib.ExitStack() as watching:
            memory = watching.enter_context(PhaseMemory())
            backends = (watching.enter_context(BackendWatch(url))
                        if database.engine.dialect.name == "postgresql" else None)
            before = " ".join(f"{x:.2f}" for x in os.getloadavg())
            busy_before = busy_core_seconds()
            started = time.perf_counter()
            run = run_forecast(partial(UnitOfWork, database), settings, request,
                               progress=memory.enter)
            wall = time.perf_counter() - started
            busy_after = busy_core_seconds()
    finally:
        database.dispose()
    phases = run["figures"].get("phases", {})
    own, children = peak_mib()
    print_run(run, executor, workers, wall)
    print(f"  peak RSS  {own:8.0f} MiB this process, {children:.0f} MiB largest child process; "
          "with children by phase: " + ", ".join(
              f"{phase} {mib:.0f} MiB" for phase, mib in memory.peaks.items()))
    print("  CPU by phase, this process and its children: " + ", ".join(
        f"{phase} {seconds:.1f} s" for phase, seconds in memory.cpu.items())
        + f"; total {sum(memory.cpu.values()):.1f} s")
    if backends is not None:
        print(f"  database  {backends.cpu_seconds:8.1f} CPU-seconds in the run's PostgreSQL "
              f"backends, peak {backends.peak_rss:.0f} MiB resident across them")
    print(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} after the run "
          f"(load before it: {before})")
    busy = busy_after - busy_before
    print(f"  CPU       {busy:8.1f} core-seconds busy machine-wide, {busy / wall:.2f} of "
          f"{os.cpu_count()} cores on average", flush=True)
    return {"wall": wall, "busy": busy, **phases}


def fresh(function, *args):
    """``function(*args)`` in a new process (spawned: nothing inherited from the loading)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, required=True)
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL server URL (a fresh database is made) or sqlite:///FILE")
    parser.add_argument("--workers", type=int, choices=(1, 2), default=1)
    parser.add_argument("--executor", choices=("local", "dask"), default="local")
    parser.add_argument("--scheduler", default=None,
                        help="address of a running Dask scheduler (default: a LocalCluster "
                             "with --workers workers, started before timing)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name-prefix", default="ri_bench",
                        help="prefix of the fresh database's name, so sessions sharing a "
                             "server can tell theirs apart")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--load-only", action="store_true",
                        help="load the history and stop (with --keep, for --loaded runs)")
    parser.add_argument("--loaded", action="store_true",
                        help="the URL names a database an earlier --keep run loaded: "
                             "time runs on it as it is (its --series, same day)")
    args = parser.parse_args()

    as_of = date.today()
    url, handle = (args.database_url, None) if args.loaded else fresh_database(args.database_url,
                                                                      args.name_prefix)
    try:
        if not args.loaded:
            engine = make_engine(url)
            migrate.upgrade(engine)
            started = time.perf_counter()
            figures = load_history(engine, args.series, args.seed, as_of)
            engine.dispose()
            print(f"loaded in {time.perf_counter() - started:.0f}s: "
                  + ", ".join(f"{v:,} {k}" for k, v in figures.items()), flush=True)
            if args.keep:  # kept even if the run fails: loading a million series takes a while
                print(f"kept {url}", flush=True)
                handle = None
        if args.load_only:
            return
        with dask_cluster(args.executor, args.workers, args.scheduler) as address:
            fresh(time_run, url, as_of, args.workers, args.executor, address)
    finally:
        drop_database(handle)


if __name__ == "__main__":
    main()
