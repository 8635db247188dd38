#!/usr/bin/env python3
"""Import N generated sales lines, and the returns of some of them, through the import
service; on PostgreSQL, beside the bare path to the same tables in the same run.

    scripts/bench_import.py --rows 1000000
    scripts/bench_import.py --rows 1000000 --database-url postgresql+psycopg://…/ri_bench

Without --database-url a temporary SQLite file is used (no reference). Give PostgreSQL a
fresh database: the run migrates it and imports the items and locations the sales name.
Then rounds alternate (A, B, then B, A, ...: each run leaves its rows, so the order turns
so that neither side always meets the longer table), each with files of its own (fresh
order numbers):
A imports the sales file and a returns file (--returns-share of the lines) through the
service; B is the least a database import can do with the same files: COPY each into a
staging table, then one INSERT … SELECT joining the items and locations (the sales lines,
for returns) into the same tables, writing the same rows (an import batch id included). The
ratio is B's time over A's (1 = as fast as bare).
Files are generated straight to disk beforehand, so the figures are those of the imports;
peak memory is the process's resident-set high-water mark (getrusage maxrss).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from returns_inventory.persistence import migrate  # noqa: E402
from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services.imports import import_rows  # noqa: E402
from returns_inventory.services.policies import Policies  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402

SIZES = ("XS", "S", "M", "L", "XL")
SALES_COLUMNS = (
    "sold_on",
    "order_ref",
    "line_ref",
    "sku",
    "size",
    "quantity",
    "unit_price",
    "channel",
    "location",
)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_csv(path: Path, header, rows, *, compress: bool = False) -> Path:
    opener = gzip.open if compress else open
    with opener(path, "wt", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def sales_rows(n: int, skus: int, stores: int, seed: int, prefix: str = "SO"):
    """Orders of 1-3 lines over two years, across warehouses (online) and stores."""
    rng = random.Random(seed)
    first_day = date(2025, 1, 1)
    order, line = 0, 0
    for _ in range(n):
        if line == 0 or rng.random() < 0.45:
            order, line = order + 1, 0
        line += 1
        online = rng.random() < 0.6
        yield (
            (first_day + timedelta(days=order * 730 // max(n, 1))).isoformat(),
            f"{prefix}{order:09d}",
            str(line),
            f"STY{rng.randrange(skus):05d}",
            rng.choice(SIZES),
            rng.choice((1, 1, 1, 2, 3)),
            f"{rng.randrange(999, 12999) / 100:.2f}",
            "online" if online else "store",
            "WH01" if online else f"ST{rng.randrange(stores):03d}",
        )


RETURN_COLUMNS = ("return_ref", "return_line_ref", "returned_on", "quantity", "reason",
                  "order_ref", "line_ref")


def return_rows(sales: Path, share: float, seed: int):
    """One returned unit of about `share` of the sales lines, two weeks after the sale."""
    rng = random.Random(seed)
    with sales.open(newline="", encoding="utf-8") as text:
        for n, row in enumerate(csv.DictReader(text)):
            if rng.random() < share:
                returned = date.fromisoformat(row["sold_on"]) + timedelta(days=14)
                yield (f"CN{row['order_ref']}", str(n), returned.isoformat(), 1,
                       rng.choice(("01", "02", "07", "other")), row["order_ref"],
                       row["line_ref"])


def run_import(uow_factory, kind: str, path: Path, batch_size: int, policies=None):
    with path.open("rb") as source:
        sha256 = hashlib.file_digest(source, "sha256").hexdigest()
        source.seek(0)
        return import_rows(uow_factory, kind, source, fmt="csv", sha256=sha256, actor="bench",
                           batch_size=batch_size, policies=policies)


BARE_SALES = """
CREATE TEMP TABLE bare_sales (sold_on date, order_ref text, line_ref text, sku text, size text,
    quantity int, unit_price numeric(12, 2), channel text, location text) ON COMMIT DROP;
"""
BARE_SALES_MERGE = """
INSERT INTO sales_lines (order_ref, line_ref, sold_on, item_id, quantity, unit_price, channel,
                         location_id, batch_id)
SELECT s.order_ref, s.line_ref, s.sold_on, i.id, s.quantity, s.unit_price, s.channel, l.id, %s
FROM bare_sales s JOIN items i ON i.sku = s.sku AND i.size = s.size
JOIN locations l ON l.code = s.location
ON CONFLICT (order_ref, line_ref) DO NOTHING
"""
BARE_RETURNS = """
CREATE TEMP TABLE bare_returns (return_ref text, return_line_ref text, returned_on date,
    quantity int, reason text, order_ref text, line_ref text) ON COMMIT DROP;
"""
BARE_RETURNS_MERGE = """
INSERT INTO imported_returns (return_ref, return_line_ref, batch_id, sales_line_id, item_id,
    sold_on, returned_on, quantity, reason, erp_reason)
SELECT r.return_ref, r.return_line_ref, %s, s.id, s.item_id, s.sold_on, r.returned_on,
    r.quantity, r.reason, r.reason
FROM bare_returns r JOIN sales_lines s ON s.order_ref = r.order_ref AND s.line_ref = r.line_ref
ON CONFLICT (return_ref, return_line_ref) DO NOTHING
"""


def bare_import(url: str, sales: Path, returns: Path) -> float:
    """COPY each file into a staging table and merge it with one INSERT … SELECT; returns
    when the sales were merged (perf_counter)."""
    import psycopg

    middle = 0.0
    with psycopg.connect("postgresql://" + url.split("://", 1)[1]) as connection:
        batch = connection.execute(
            "INSERT INTO import_batches (kind, content_sha256, row_count, applied_count, "
            "skipped_count, actor, created_at) VALUES ('bare', %s, 0, 0, 0, 'bench', now()) "
            "RETURNING id", (returns.name + str(time.time()),)).fetchone()[0]
        for create, path, table, merge, params in (
                (BARE_SALES, sales, "bare_sales", BARE_SALES_MERGE, (batch,)),
                (BARE_RETURNS, returns, "bare_returns", BARE_RETURNS_MERGE, (batch,))):
            connection.execute(create)
            statement = f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)"
            with (connection.cursor() as cursor, path.open("rb") as source,
                  cursor.copy(statement) as copy):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            connection.execute(f"ANALYZE {table}")
            connection.execute(merge, params)
            middle = middle or time.perf_counter()
        connection.commit()
    return middle


def ours(uow_factory, sales: Path, returns: Path, batch_size: int, policies) -> tuple:
    started = time.perf_counter()
    result = run_import(uow_factory, "sales", sales, batch_size)
    middle = time.perf_counter()
    back = run_import(uow_factory, "returns", returns, batch_size, policies)
    assert not result.duplicate and not back.duplicate, "use a fresh database"
    return middle - started, time.perf_counter() - middle, result.applied, back.applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--skus", type=int, default=2000, help="styles (x5 sizes)")
    parser.add_argument("--stores", type=int, default=40)
    parser.add_argument("--gzip", action="store_true", help="compress the sales file (A only)")
    parser.add_argument("--returns-share", type=float, default=0.1)
    parser.add_argument("--rounds", type=int, default=2, help="of each, alternating")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        postgres = url.startswith("postgresql")
        engine = make_engine(url)
        migrate.upgrade(engine)
        uow_factory = partial(UnitOfWork, Database(engine))
        policies = Policies.from_settings(Settings.load(env={}))

        places = [("WH01", "Central warehouse", "warehouse")]
        places += [(f"ST{i:03d}", f"Store {i}", "store") for i in range(args.stores)]
        catalogue = [
            (f"STY{s:05d}", size, f"{s % 50 + 5}.00") for s in range(args.skus) for size in SIZES
        ]
        run_import(uow_factory, "locations",
                   write_csv(folder / "locations.csv", ("code", "name", "type"), places),
                   args.batch_size)
        run_import(uow_factory, "items",
                   write_csv(folder / "items.csv", ("sku", "size", "price"), catalogue),
                   args.batch_size)

        plan = [("A", r) for r in range(args.rounds)]
        if postgres:
            # Every run leaves its rows, so a later run inserts into a longer table: the
            # order turns each round (A B, B A, ...) so that neither side always goes second.
            plan = [(who, r) for r in range(args.rounds)
                    for who in (("A", "B") if r % 2 == 0 else ("B", "A"))]
        files = {}
        started = time.perf_counter()
        for who, r in plan:
            name = f"sales_{who}{r}.csv" + (".gz" if args.gzip and who == "A" else "")
            rows = sales_rows(args.rows, args.skus, args.stores, args.seed + r,
                              prefix=f"{who}{r}-")
            sales = write_csv(folder / name, SALES_COLUMNS, rows,
                              compress=args.gzip and who == "A")
            plain = sales if not name.endswith(".gz") else write_csv(
                folder / f"plain_{who}{r}.csv", SALES_COLUMNS,
                sales_rows(args.rows, args.skus, args.stores, args.seed + r, prefix=f"{who}{r}-"))
            returns = write_csv(folder / f"returns_{who}{r}.csv", RETURN_COLUMNS,
                                return_rows(plain, args.returns_share, args.seed + r))
            files[who, r] = sales, returns
        generated = time.perf_counter() - started
        size_mib = files["A", 0][0].stat().st_size / 2**20
        returned = sum(1 for _ in files["A", 0][1].open()) - 1
        before = peak_mib()
        print(f"backend        {url.split(':', 1)[0]}")
        print(f"files          {args.rows:,} sales lines ({size_mib:.0f} MiB"
              f"{', gzip' if args.gzip else ''}) and {returned:,} returned lines a round, "
              f"fresh order numbers each round (made in {generated:.0f} s)")
        a_times, b_times = [], []
        for who, r in plan:
            sales, returns = files[who, r]
            load = os.getloadavg()[0]
            if who == "A":
                cpu = cpu_seconds()
                s_wall, r_wall, applied, back = ours(uow_factory, sales, returns,
                                                     args.batch_size, policies)
                cpu = cpu_seconds() - cpu
                a_times.append(s_wall + r_wall)
                print(f"round {r + 1} A service  sales {s_wall:6.1f} s + returns {r_wall:5.1f} s"
                      f" = {a_times[-1]:6.1f} s ({applied:,} + {back:,} rows, "
                      f"{applied / s_wall:,.0f} sales rows/s, this process's CPU {cpu:.0f} s;"
                      f" load {load:.2f})")
            else:
                started = time.perf_counter()
                middle = bare_import(url, sales, returns)
                b_times.append(time.perf_counter() - started)
                print(f"round {r + 1} B bare     sales {middle - started:6.1f} s + returns "
                      f"{b_times[-1] - middle + started:5.1f} s = {b_times[-1]:6.1f} s "
                      f"(COPY + INSERT … SELECT of each file; load {load:.2f})")
        engine.dispose()
    print(f"peak memory    {peak_mib():.0f} MiB (before the imports: {before:.0f} MiB)")
    if b_times:
        ratios = [b / a for a, b in zip(a_times, b_times, strict=True)]
        print(f"ratio          bare time / service time per round: "
              f"{', '.join(f'{x:.2f}' for x in ratios)} (all rounds: "
              f"{sum(b_times) / sum(a_times):.2f}); target >= 0.5: "
              f"{'met' if min(ratios) >= 0.5 else 'NOT met'}")
    load = os.getloadavg()
    print(f"load average   {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min, at the end)")


if __name__ == "__main__":
    main()
