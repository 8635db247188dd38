"""Benchmark what inspection outcomes cost grading: this code against a reference checkout.

    python scripts/bench_inspection.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/x
        [--reference main] [--units 400] [--rounds 3]

Each round grades `--units` units, one transaction each through the grading service (no HTTP:
the work this change adds is in the transaction), once with the reference code (A: `git
archive` of `--reference`, before outcomes and refunds) and once with this tree (B: the outcome
rules, the outcome row, the line's refund and the customer's answer), alternating A, B, A, B
so both meet the same load on a shared machine. Every run loads N one-unit returns of a
'too small' reason into a fresh database of its own (`ri_bench_inspection_a` / `_b` on the
given server, dropped afterwards), untimed; then grades them A, B, C and D in turn. A side whose
code has the settlement step (services/settlement.py: refunds settled after the grades, many
returns at a time) runs it after the last grade, inside the timing, as the scheduler would.
It prints both figures per round with the CPU each spent per unit (the grading process, and
PostgreSQL's backend for the side's database), the ratios B/A and the load average, then the
median ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADES = ["A"] * 6 + ["B"] * 2 + ["C", "D"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reference", default="main", help="git revision to compare with")
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", choices=["a", "b"], help=argparse.SUPPRESS)
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)
    with tempfile.TemporaryDirectory(prefix="ri-bench-reference-") as reference:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.reference],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", reference], input=archive, check=True)
        ratios, cpu_ratios = [], []
        for n in range(1, args.rounds + 1):
            a = _run(args, "a", reference)
            b = _run(args, "b", str(ROOT))
            load = os.getloadavg()
            ratio = b["units_per_s"] / a["units_per_s"]
            cpu_ratio = _cpu(b) / _cpu(a)
            ratios.append(ratio)
            cpu_ratios.append(cpu_ratio)
            print(f"round {n}: A (reference {args.reference}) {a['units_per_s']:.1f} units/s, "
                  f"CPU {a['cpu_ms']:.2f} + {a['db_cpu_ms']:.2f} ms/unit; B (this tree"
                  f"{', settled after' if b['settled'] else ''}) {b['units_per_s']:.1f} "
                  f"units/s, CPU {b['cpu_ms']:.2f} + {b['db_cpu_ms']:.2f} ms/unit; B/A "
                  f"{ratio:.2f}, CPU B/A {cpu_ratio:.2f}; load {load[0]:.2f} {load[1]:.2f} "
                  f"{load[2]:.2f}", flush=True)
        print(f"median B/A over {args.rounds} rounds: units/s {statistics.median(ratios):.2f}, "
              f"CPU per unit (process + database) {statistics.median(cpu_ratios):.2f}")


def _cpu(side: dict) -> float:
    return side["cpu_ms"] + side["db_cpu_ms"]


def _backend_cpu(database: str) -> float:
    """CPU seconds of PostgreSQL's backends serving `database` (0 without psutil)."""
    try:
        import psutil
    except ImportError:
        return 0.0
    total = 0.0
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if command.startswith("postgres:") and f" {database} " in f"{command} ":
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def _run(args, side: str, code: str) -> dict:
    answer = subprocess.run(
        [sys.executable, __file__, "--worker", side, "--code", code,
         "--database-url", args.database_url, "--units", str(args.units)],
        check=True, capture_output=True, text=True, cwd=code)
    return json.loads(answer.stdout.strip().splitlines()[-1])


def _worker(args) -> None:
    sys.path.insert(0, args.code)  # the side's own code, ahead of the installed tree
    from sqlalchemy import create_engine, insert, text
    from sqlalchemy.engine import make_url

    import returns_inventory
    from returns_inventory.persistence import migrate
    from returns_inventory.persistence.engine import make_engine
    from returns_inventory.persistence.tables import sales_lines
    from returns_inventory.persistence.uow import Database, UnitOfWork
    from returns_inventory.services.grading import grade_unit
    from returns_inventory.services.policies import Policies
    from returns_inventory.services.receiving import receive_units
    from returns_inventory.services.returns import ReturnLineRequest, authorize_return
    from returns_inventory.settings import Settings
    assert Path(returns_inventory.__file__).is_relative_to(args.code), returns_inventory.__file__
    name = f"ri_bench_inspection_{args.worker}"
    server = make_url(args.database_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(server.set(database=name).render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine)
        database = Database(engine)
        uow_factory = lambda: UnitOfWork(database)  # noqa: E731
        policies = Policies.from_settings(Settings.load(env={}))
        units = _load(uow_factory, policies, args.units, insert, sales_lines,
                      ReturnLineRequest, authorize_return, receive_units)
        try:
            from returns_inventory.services.settlement import settle_all
        except ImportError:  # code from before the settlement step: grades settle themselves
            settle_all = None
        db_before, cpu_before = _backend_cpu(name), time.process_time()
        started = time.perf_counter()
        for i, unit in enumerate(units):
            grade_unit(uow_factory, policies, unit_id=unit, grade=GRADES[i % len(GRADES)],
                       actor="bench", is_admin=True)
        if settle_all is not None:
            settle_all(uow_factory, policies)
        took = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
        db_cpu = _backend_cpu(name) - db_before
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps({"units": len(units), "seconds": took, "units_per_s": len(units) / took,
                      "cpu_ms": cpu * 1000 / len(units), "db_cpu_ms": db_cpu * 1000 / len(units),
                      "settled": settle_all is not None}))


def _load(uow_factory, policies, count, insert, sales_lines, ReturnLineRequest,
          authorize_return, receive_units) -> list[str]:
    """`count` one-unit 'too small' returns of online sales, received at WH1 (untimed)."""
    with uow_factory() as uow:
        uow.catalogue.upsert_locations([{"code": "WH1", "name": "Bench", "type": "warehouse",
                                         "allow_negative": False}])
        uow.catalogue.upsert_items([{"sku": "BENCH-TEE", "size": "M", "category": "tops",
                                     "description": "bench", "unit_cost": Decimal("8.50"),
                                     "price": Decimal("25.00"), "supplier": "ACME",
                                     "lead_time_days": 21, "case_pack": 6, "min_order_qty": 1,
                                     "gtin": None}])
        item = uow.catalogue.item_by_sku_size("BENCH-TEE", "M").id
        place = uow.catalogue.location_by_code("WH1").id
        uow.connection.execute(insert(sales_lines), [
            {"order_ref": f"SO-{n}", "line_ref": "1", "item_id": item, "location_id": place,
             "quantity": 1, "unit_price": Decimal("25.00"), "channel": "online",
             "sold_on": date.today() - timedelta(days=3)} for n in range(count)])
        uow.commit()
    units = []
    for n in range(count):
        view = authorize_return(uow_factory, policies, order_ref=f"SO-{n}", actor="bench",
                                lines=[ReturnLineRequest(line_ref="1", quantity=1,
                                                         reason="too_small")])
        [unit] = receive_units(uow_factory, rma=view.rma, location="WH1", actor="bench",
                               lines=[{"line_no": 1, "quantity": 1}])
        units.append(unit.unit_id)
    return units


if __name__ == "__main__":
    main()
