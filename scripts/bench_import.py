#!/usr/bin/env python3
"""Import N generated sales lines through the import service; print rows/s and peak memory.

    scripts/bench_import.py --rows 1000000
    scripts/bench_import.py --rows 1000000 --database-url postgresql+psycopg://…/ri_bench

Without --database-url a temporary SQLite file is used. Give PostgreSQL a fresh database:
the run migrates it, imports the items and locations the sales name, then the sales file.
The file is generated straight to disk, so the figures are those of the import alone:
peak memory is the process's resident-set high-water mark (getrusage maxrss).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
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


def sales_rows(n: int, skus: int, stores: int, seed: int):
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
            f"SO{order:09d}",
            str(line),
            f"STY{rng.randrange(skus):05d}",
            rng.choice(SIZES),
            rng.choice((1, 1, 1, 2, 3)),
            f"{rng.randrange(999, 12999) / 100:.2f}",
            "online" if online else "store",
            "WH01" if online else f"ST{rng.randrange(stores):03d}",
        )


def run_import(uow_factory, kind: str, path: Path, batch_size: int):
    with path.open("rb") as source:
        sha256 = hashlib.file_digest(source, "sha256").hexdigest()
        source.seek(0)
        return import_rows(
            uow_factory,
            kind,
            source,
            fmt="csv",
            sha256=sha256,
            actor="bench",
            batch_size=batch_size,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--skus", type=int, default=2000, help="styles (x5 sizes)")
    parser.add_argument("--stores", type=int, default=40)
    parser.add_argument("--gzip", action="store_true", help="compress the sales file")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        uow_factory = partial(UnitOfWork, Database(engine))

        places = [("WH01", "Central warehouse", "warehouse")]
        places += [(f"ST{i:03d}", f"Store {i}", "store") for i in range(args.stores)]
        catalogue = [
            (f"STY{s:05d}", size, f"{s % 50 + 5}.00") for s in range(args.skus) for size in SIZES
        ]
        run_import(
            uow_factory,
            "locations",
            write_csv(folder / "locations.csv", ("code", "name", "type"), places),
            args.batch_size,
        )
        run_import(
            uow_factory,
            "items",
            write_csv(folder / "items.csv", ("sku", "size", "price"), catalogue),
            args.batch_size,
        )

        name = "sales.csv.gz" if args.gzip else "sales.csv"
        started = time.perf_counter()
        rows = sales_rows(args.rows, args.skus, args.stores, args.seed)
        sales = write_csv(folder / name, SALES_COLUMNS, rows, compress=args.gzip)
        generated = time.perf_counter() - started
        size_mib = sales.stat().st_size / 2**20
        before = peak_mib()

        started, cpu = time.perf_counter(), cpu_seconds()
        result = run_import(uow_factory, "sales", sales, args.batch_size)
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        engine.dispose()

    backend = url.split(":", 1)[0]
    print(f"backend        {backend}")
    print(
        f"sales file     {args.rows:,} rows, {name} {size_mib:.0f} MiB (made in {generated:.0f} s)"
    )
    print(
        f"result         {result.applied:,} applied, {result.skipped:,} skipped"
        f"{' (DUPLICATE FILE: use a fresh database)' if result.duplicate else ''}"
    )
    print(f"wall time      {wall:.1f} s (this process's CPU: {cpu:.1f} s; the rest is the")
    print("               database server's work, disk and other load on the machine)")
    print(f"throughput     {result.rows / wall:,.0f} rows/s")
    print(f"peak memory    {peak_mib():.0f} MiB (before the import: {before:.0f} MiB)")


if __name__ == "__main__":
    main()
