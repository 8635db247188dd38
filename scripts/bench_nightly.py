#!/usr/bin/env python3
"""Time the whole nightly run (read, forecast, write) on N series of synthetic history.

    scripts/bench_nightly.py --series 100000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    scripts/bench_nightly.py --series 20000 --database-url ... --executor dask --compare-workers
    scripts/bench_nightly.py --series 2000 --database-url sqlite:////tmp/bench.sqlite3

A PostgreSQL URL names the server: a fresh database is created there, migrated, loaded and
dropped afterwards (unless --keep). The history (104 weeks from forecasting.synthetic: weekly
sales, returns with reasons, grades and receipt dates, stock) goes straight into the tables
with COPY, because loading is not what is measured; the run is the real `run_forecast`, and
its recorded phase timings are printed with series/s, peak memory (getrusage maxrss of
this process and of its children, e.g. the forecasting worker processes) and the load
average, and the cores the whole machine kept busy. With --compare-workers it prints the
2-against-1 speed-up of every phase and the ceiling those busy cores leave. --loaded
times runs on a database an earlier --keep run loaded, without loading it again.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import socket
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from process_cpu import RunMeter, machine_ceiling, postgres_meter_args  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from forecasting.panel import GRADES, REASONS  # noqa: E402
from forecasting.synthetic import make_apparel_panel  # noqa: E402
from returns_inventory.domain.weeks import monday_of  # noqa: E402
from returns_inventory.persistence import migrate  # noqa: E402
from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services.forecast_runs import RunRequest, run_forecast  # noqa: E402
from returns_inventory.services.planning_inputs import last_complete_week  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402

BLOCK = 200_000
NOW = "2026-01-01 00:00:00+00:00"
STATUS = {"A": "restocked", "B": "second_quality", "C": "in_repair", "D": "written_off",
          "": "awaiting_grading"}


def peak_mib() -> tuple[float, float]:
    """(this process, largest child) resident-set high-water marks in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


class Loader:
    """COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, engine):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    def load(self, table: str, columns: tuple[str, ...], rows) -> int:
        count = 0
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.postgres:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    buffer = io.StringIO()
                    for row in rows:
                        buffer.write("\t".join("\\N" if v is None else str(v) for v in row))
                        buffer.write("\n")
                        count += 1
                        if count % BLOCK == 0:
                            copy.write(buffer.getvalue())
                            buffer = io.StringIO()
                    copy.write(buffer.getvalue())
            else:
                sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
                       f"VALUES ({', '.join('?' * len(columns))})")
                batch = []
                for row in rows:
                    batch.append(row)
                    if len(batch) == BLOCK:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                cursor.executemany(sql, batch)
                count += len(batch)
            raw.commit()
        finally:
            raw.close()
        return count

    def reset_sequences(self, tables: list[str]) -> None:
        if not self.postgres:
            return
        with self.engine.begin() as conn:
            for table in tables:
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
            conn.execute(text("ANALYZE"))


def load_history(engine, n_series: int, seed: int, as_of: date) -> dict:
    panel = make_apparel_panel(n_series, n_weeks=104, seed=seed)
    n = len(panel.sales.ids)
    first_monday = monday_of(last_complete_week(as_of) - 103)
    loader = Loader(engine)
    figures = {}
    sku, size = np.char.partition(panel.sales.ids.astype(str), "|")[:, [0, 2]].T
    cost = panel.items.unit_cost
    figures["items"] = loader.load(
        "items", ("id", "sku", "size", "category", "unit_cost", "price", "lead_time_days",
                  "case_pack", "min_order_qty", "updated_at"),
        ((i + 1, sku[i], size[i], panel.items.category[i], f"{cost[i]:.2f}",
          f"{cost[i] * 2.5:.2f}", int(panel.items.lead_time[i]) * 7, 1, 1, NOW)
         for i in range(n)))
    loader.load("locations", ("id", "code", "name", "type", "allow_negative"),
                [(1, "WH1", "Warehouse", "warehouse", False)])
    # One sales line per series and week with sales, sold on the Wednesday.
    rows, weeks = np.nonzero(panel.sales.y)
    line_id = np.full(panel.sales.y.shape, -1, dtype=np.int64)
    line_id[rows, weeks] = np.arange(1, len(rows) + 1)
    days = [(first_monday + timedelta(weeks=w, days=2)).isoformat() for w in range(104)]
    qty = panel.sales.y[rows, weeks].astype(np.int64)
    figures["sales_lines"] = loader.load(
        "sales_lines", ("id", "order_ref", "line_ref", "sold_on", "item_id", "quantity",
                        "unit_price", "channel", "location_id"),
        ((k + 1, f"B{k + 1}", "1", days[w], r + 1, q, "10.00", "online", 1)
         for k, (r, w, q) in enumerate(zip(rows.tolist(), weeks.tolist(), qty.tolist(),
                                           strict=True))))
    figures.update(_load_returns(loader, panel, line_id, first_monday))
    on_hand = panel.stock.on_hand.astype(np.int64).tolist()
    figures["stock_balances"] = loader.load(
        "stock_balances", ("id", "item_id", "location_id", "condition", "on_hand", "reserved",
                           "updated_at"),
        ((i + 1, i + 1, 1, "sellable", on_hand[i], 0, NOW) for i in range(n)))
    loader.reset_sequences(["items", "locations", "sales_lines", "returns", "return_lines",
                            "return_units", "stock_balances"])
    return figures


def _load_returns(loader, panel, line_id, first_monday) -> dict:
    """Returned units grouped into one return (of one line) per series, sale week and reason."""
    r = panel.returns
    order = np.lexsort((r.reason, r.sale_week, r.series))
    series, sale, reason = r.series[order], r.sale_week[order], r.reason[order]
    receipt, grade = r.receipt_week[order], r.grade[order]
    key = (series.astype(np.int64) * 104 + sale) * 16 + reason
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    line_of_unit = np.cumsum(np.r_[True, key[1:] != key[:-1]])  # 1-based return line id
    counts = np.diff(np.r_[starts, len(key)])
    g_series, g_sale, g_reason = series[starts], sale[starts], reason[starts]
    sales_line = line_id[g_series, g_sale]
    day = [(first_monday + timedelta(weeks=w, days=4)).isoformat() for w in range(104 + 10)]
    figures = {}
    figures["returns"] = loader.load(
        "returns", ("id", "rma", "order_ref", "sold_channel", "status", "shipping_paid_by",
                    "requested_on", "actor", "created_at", "updated_at"),
        ((k + 1, f"RMA-B{k + 1}", f"B{sales_line[k]}", "online", "received", "customer",
          day[g_sale[k]], "bench", NOW, NOW) for k in range(len(starts))))
    figures["return_lines"] = loader.load(
        "return_lines", ("id", "return_id", "line_no", "sales_line_id", "item_id", "quantity",
                         "received_quantity", "reason", "resolution"),
        ((k + 1, k + 1, 1, int(sales_line[k]), int(g_series[k]) + 1, int(counts[k]),
          int(counts[k]), REASONS[g_reason[k]], "refund") for k in range(len(starts))))
    figures["return_units"] = loader.load(
        "return_units", ("id", "unit_code", "return_id", "return_line_id", "item_id",
                         "location_id", "status", "grade", "defects", "received_at",
                         "received_by"),
        ((u + 1, f"B{u + 1}", int(line_of_unit[u]), int(line_of_unit[u]), int(series[u]) + 1, 1,
          STATUS[GRADES[grade[u]]], GRADES[grade[u]] or None, "[]",
          f"{day[receipt[u]]} 12:00:00+00:00", "bench") for u in range(len(series))))
    return figures


def fresh_database(server_url: str) -> tuple[str, object]:
    url = make_url(server_url)
    if url.get_backend_name() == "sqlite":
        return server_url, None
    name = f"ri_bench_{uuid.uuid4().hex[:10]}"
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


@dataclass
class Cluster:
    """A running Dask scheduler's address, and its workers' pids when they run here."""

    address: str | None = None
    worker_pids: tuple[int, ...] = ()


@contextmanager
def dask_cluster(executor: str, workers: int, address: str | None):
    """The given scheduler, or a LocalCluster of ``workers`` started now; None for local runs.

    Started, and its workers' imports done, before the clock runs: the figure is a run on a
    cluster that is up, as a nightly run on a standing cluster is, not the seconds it takes to
    spawn workers and import numpy, scipy and statsmodels in them.
    """
    if executor != "dask":
        yield None
        return
    from dask.distributed import Client

    from returns_inventory.services.dask_executor import local_cluster

    with contextlib.ExitStack() as stack:
        if not address:
            cluster = stack.enter_context(local_cluster(workers))
            address = cluster.scheduler_address
        with Client(address) as client:
            client.run(_warm)
            hosts = client.run(_host_and_pid).values()
        # Workers on other hosts are not charged (their pids mean nothing here).
        yield Cluster(address, tuple(pid for host, pid in hosts if host == socket.gethostname()))


def _warm() -> None:
    """Import and run the kernels once (statsmodels is imported on first use), so every
    process, driver or worker, is measured as it runs its second night."""
    import returns_inventory.services.dask_run  # noqa: F401
    from forecasting import Planner

    panel = make_apparel_panel(300, n_weeks=130, seed=1)
    Planner(panel.sales, panel.returns, panel.stock, panel.items).fit()


def _host_and_pid() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def time_run(url: str, as_of: date, workers: int, executor: str,
             cluster: Cluster | None = None) -> dict:
    """One real run, charged with the CPU of its own processes (see scripts/process_cpu.py)."""
    settings = Settings.load(database_url=url, secret_key="bench")
    database = Database(make_engine(url))
    try:
        request = RunRequest(as_of=as_of, actor="bench", trigger="cli", workers=workers,
                             executor=executor,
                             scheduler_address=cluster.address if cluster else None)
        before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        name, postmaster = postgres_meter_args(database.engine)
        meter = RunMeter(name, postmaster, cluster.worker_pids if cluster else ()).start()
        run = run_forecast(partial(UnitOfWork, database), settings, request,
                           progress=lambda stage: meter.mark(stage.split()[0]))
        charge = meter.stop()
    finally:
        database.dispose()
    phases = run["figures"].get("phases", {})
    own, children = peak_mib()
    wall = charge.wall
    print(f"run {run['id']} {run['status']}: {executor} executor, {workers} worker(s), "
          f"{run['series_count']} series, {run['suggestion_count']} suggestions, "
          f"{run['fallback_count']} fallbacks")
    for phase in ("read_s", "forecast_s", "write_s", "total_s"):
        print(f"  {phase[:-2]:9} {phases.get(phase, 0):8.1f} s")
    print(f"  wall      {wall:8.1f} s   {run['series_count'] / wall:,.0f} series/s")
    print(f"  peak RSS  {own:8.0f} MiB here, {children:.0f} MiB largest child process")
    print(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} after the run "
          f"(load before it: {before})")
    print(f"  CPU       {charge.describe()}; {charge.total / wall:.2f} cores on average")
    print(f"  CPU by phase (driver + Dask workers + PostgreSQL): {charge.describe_phases()}")
    return {"wall": wall, "cpu": charge.total, "charge": charge, **phases}


def compare_executors(url: str, as_of: date, args) -> None:
    """Alternating rounds (local, dask, local, dask ...) of 1-worker runs: the CPU Dask adds."""
    _warm()
    with dask_cluster("dask", args.workers, args.scheduler) as cluster:
        pairs = []
        for k in range(args.rounds):
            print(f"-- round {k + 1}: local executor")
            local = time_run(url, as_of, 1, "local")
            print(f"-- round {k + 1}: dask executor, {args.workers} worker(s)")
            dask = time_run(url, as_of, args.workers, "dask", cluster)
            pairs.append((local, dask))
    for k, (local, dask) in enumerate(pairs, 1):
        print(f"round {k}: core-seconds dask {dask['cpu']:.1f} / local {local['cpu']:.1f} = "
              f"{dask['cpu'] / local['cpu']:.2f}x; wall {dask['wall']:.1f} / {local['wall']:.1f}"
              f" s = {dask['wall'] / local['wall']:.2f}x; forecast phase "
              f"{dask['forecast_s']:.1f} / {local['forecast_s']:.1f} s")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (target: dask at "
          f"most 1.1x the local executor's core-seconds)")


def compare_workers(url: str, as_of: date, args) -> None:
    """Alternating rounds of 1 and 2 workers, each pair next to the machine's ceiling."""
    _warm()
    with contextlib.ExitStack() as stack:
        clusters = {w: stack.enter_context(dask_cluster(args.executor, w, args.scheduler))
                    for w in (1, 2)}
        rounds = []
        for k in range(args.rounds):
            ceiling = machine_ceiling()
            print(f"-- round {k + 1}: ceiling {ceiling.describe()}")
            one = time_run(url, as_of, 1, args.executor, clusters[1])
            two = time_run(url, as_of, 2, args.executor, clusters[2])
            rounds.append((ceiling, one, two))
    for k, (ceiling, one, two) in enumerate(rounds, 1):
        forecast = one["forecast_s"] / max(two["forecast_s"], 1e-9)
        total = one["wall"] / two["wall"]
        # The 2-worker run does (at least) the 1-worker run's core-seconds; it can keep busy
        # at most the cores two CPU-bound processes got here, so it cannot beat this:
        end_to_end = max(1.0, ceiling.cores * one["wall"] / one["cpu"])
        print(f"round {k} ({args.executor}): forecast phase {one['forecast_s']:.1f} -> "
              f"{two['forecast_s']:.1f} s = {forecast:.2f}x against the ceiling "
              f"{ceiling.speedup:.2f}x ({forecast / ceiling.speedup:.2f} of it); end to end "
              f"{one['wall']:.1f} -> {two['wall']:.1f} s = {total:.2f}x against "
              f"{end_to_end:.2f}x ({total / end_to_end:.2f} of it); core-seconds "
              f"{one['cpu']:.1f} -> {two['cpu']:.1f} ({two['cpu'] / one['cpu']:.2f}x)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (target: 2 workers "
          "reach 0.9 of the ceiling)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, required=True)
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL server URL (a fresh database is made) or sqlite:///FILE")
    parser.add_argument("--workers", type=int, choices=(1, 2), default=1)
    parser.add_argument("--executor", choices=("local", "dask"), default="local")
    parser.add_argument("--compare-workers", action="store_true",
                        help="alternate runs with 1 and 2 workers of --executor, and print "
                             "the speed-ups next to the machine's ceiling")
    parser.add_argument("--compare-executors", action="store_true",
                        help="alternate runs on the local executor and on Dask (--workers), "
                             "and print the core-seconds of each")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of a comparison")
    parser.add_argument("--scheduler", default=None,
                        help="address of a running Dask scheduler (default: a LocalCluster "
                             "with --workers workers, started before timing)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--loaded", action="store_true",
                        help="the URL names a database an earlier --keep run loaded: "
                             "time runs on it as it is (its --series, same day)")
    args = parser.parse_args()

    as_of = date.today()
    url, handle = (args.database_url, None) if args.loaded else fresh_database(args.database_url)
    try:
        if not args.loaded:
            engine = make_engine(url)
            migrate.upgrade(engine)
            started = time.perf_counter()
            figures = load_history(engine, args.series, args.seed, as_of)
            engine.dispose()
            print(f"loaded in {time.perf_counter() - started:.0f}s: "
                  + ", ".join(f"{v:,} {k}" for k, v in figures.items()))
        if args.compare_workers:
            compare_workers(url, as_of, args)
        elif args.compare_executors:
            compare_executors(url, as_of, args)
        else:
            with dask_cluster(args.executor, args.workers, args.scheduler) as cluster:
                time_run(url, as_of, args.workers, args.executor, cluster)
        if handle is not None and args.keep:
            print(f"kept {url}")
            handle = None
    finally:
        drop_database(handle)


if __name__ == "__main__":
    main()
