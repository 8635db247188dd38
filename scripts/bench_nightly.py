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
import io
import os
import resource
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    settings = Settings.load(database_url=url, secret_key="bench")
    database = Database(make_engine(url))
    try:
        request = RunRequest(as_of=as_of, actor="bench", trigger="cli", workers=workers,
                             executor=executor, scheduler_address=scheduler_address)
        before = " ".join(f"{x:.2f}" for x in os.getloadavg())
        busy_before = busy_core_seconds()
        started = time.perf_counter()
        run = run_forecast(partial(UnitOfWork, database), settings, request)
        wall = time.perf_counter() - started
        busy_after = busy_core_seconds()
    finally:
        database.dispose()
    phases = run["figures"].get("phases", {})
    own, children = peak_mib()
    print(f"run {run['id']} {run['status']}: {executor} executor, {workers} worker(s), "
          f"{run['series_count']} series, {run['suggestion_count']} suggestions, "
          f"{run['fallback_count']} fallbacks")
    for phase in ("read_s", "forecast_s", "write_s", "total_s"):
        print(f"  {phase[:-2]:9} {phases.get(phase, 0):8.1f} s")
    print(f"  wall      {wall:8.1f} s   {run['series_count'] / wall:,.0f} series/s")
    print(f"  peak RSS  {own:8.0f} MiB here, {children:.0f} MiB largest child process")
    print(f"  load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} after the run "
          f"(load before it: {before})")
    busy = busy_after - busy_before
    print(f"  CPU       {busy:8.1f} core-seconds busy machine-wide, {busy / wall:.2f} of "
          f"{os.cpu_count()} cores on average")
    return {"wall": wall, "busy": busy, **phases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, required=True)
    parser.add_argument("--database-url", required=True,
                        help="PostgreSQL server URL (a fresh database is made) or sqlite:///FILE")
    parser.add_argument("--workers", type=int, choices=(1, 2), default=1)
    parser.add_argument("--executor", choices=("local", "dask"), default="local")
    parser.add_argument("--compare-workers", action="store_true",
                        help="time the run with 1 and then 2 workers and print the speed-up")
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
            with dask_cluster(args.executor, 1, args.scheduler) as address:
                one = time_run(url, as_of, 1, args.executor, address)
            with dask_cluster(args.executor, 2, args.scheduler) as address:
                two = time_run(url, as_of, 2, args.executor, address)
            ratios = ", ".join(f"{phase[:-2]} {one[phase] / max(two[phase], 1e-9):.2f}x"
                               for phase in ("total_s", "read_s", "forecast_s", "write_s"))
            print(f"speed-up with 2 workers ({args.executor}): {ratios} "
                  f"(end to end: total; forecast phase: forecast)")
            # No run keeps more than every core busy, so if two workers do at least the work
            # one does (the CPU ratio printed says whether they did), no schedule of it can
            # beat this end to end on this machine.
            ceiling = os.cpu_count() * one["wall"] / one["busy"]
            print(f"ceiling on this machine: {os.cpu_count()} cores x 1-worker wall / its "
                  f"busy core-seconds = {ceiling:.2f}x (2 workers used "
                  f"{two['busy'] / one['busy']:.2f}x the CPU of 1)")
        else:
            with dask_cluster(args.executor, args.workers, args.scheduler) as address:
                time_run(url, as_of, args.workers, args.executor, address)
        if handle is not None and args.keep:
            print(f"kept {url}")
            handle = None
    finally:
        drop_database(handle)


if __name__ == "__main__":
    main()
