"""Benchmark what quality alerts cost the suggestions list, and the scorecards themselves.

    python scripts/bench_quality.py [--database-url URL] [--skus 300] [--rounds 6]

Loads a catalogue of --skus SKUs in five sizes from 30 suppliers in 6 categories, 26 weeks of
sales, quality and other returns (one supplier with a bad batch) and a run of one suggestion
per item, straight into a fresh database (SQLite in a temporary folder by default; a
PostgreSQL URL names a server, on which `ri_bench_quality` is created and dropped). Then, in
alternating rounds A, B, A, B, ...:

  A  the first page (100) of the suggestions list as before this work (no quality alerts)
  B  the same page with every suggestion marked with its quality alerts (kept between pages
     while no sale, return or item changes: the usual case)
  C  the same as B right after such a change (the kept alerts dropped before each call)

and prints the median of each, the ratios to A and the load average, then the median time of
the quality scorecards by supplier over 180 days.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from returns_inventory.persistence import migrate  # noqa: E402
from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.planning_tables import replenishment_suggestions  # noqa: E402
from returns_inventory.persistence.returns_tables import (  # noqa: E402
    return_lines,
    return_units,
    returns,
)
from returns_inventory.persistence.tables import items, locations, sales_lines  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services import report_cache, suggestion_alerts  # noqa: E402
from returns_inventory.services.policies import Policies  # noqa: E402
from returns_inventory.services.quality import quality_scorecards  # noqa: E402
from returns_inventory.services.suggestions import list_suggestions  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402

BENCH_DATABASE = "ri_bench_quality"
SIZES = ("XS", "S", "M", "L", "XL")
WEEKS = 26


def _load(uow_factory, skus: int, today: date) -> None:
    rng = np.random.default_rng(7)
    now = datetime.now(UTC)
    with uow_factory() as uow:
        c = uow.connection
        c.execute(insert(locations).values(code="WH1", name="Warehouse", type="warehouse"))
        rows = [{"sku": f"S{n:04d}", "size": size, "category": f"cat{n % 6}",
                 "supplier": f"SUP{n % 30:02d}", "factory": f"F{n % 12}", "season": "AW26",
                 "unit_cost": Decimal("10.00"), "price": Decimal("30.00"), "updated_at": now}
                for n in range(skus) for size in SIZES]
        c.execute(insert(items), rows)
        ids = [r.id for r in c.execute(text("SELECT id FROM items ORDER BY id"))]
        sales, lines, units = [], [], []
        for index, item_id in enumerate(ids):
            bad = (index // len(SIZES)) % 30 == 0  # SUP00: a bad batch in the last 8 weeks
            for week in range(1, WEEKS + 1):
                sales.append({"order_ref": f"O{item_id}-{week}", "line_ref": "1",
                              "sold_on": today - timedelta(weeks=week), "item_id": item_id,
                              "quantity": int(rng.poisson(6)) + 1, "unit_price": Decimal("30"),
                              "channel": "online", "location_id": 1})
        c.execute(insert(sales_lines), sales)
        sold = c.execute(text("SELECT id, item_id, quantity FROM sales_lines")).all()
        for n, (line_id, item_id, quantity) in enumerate(sold):
            bad = ((item_id - 1) // len(SIZES)) % 30 == 0
            back = int(rng.binomial(quantity, 0.12 if bad else 0.03))
            if not back:
                continue
            lines.append({"id": n + 1, "return_id": 1, "line_no": n + 1,
                          "sales_line_id": line_id, "item_id": item_id, "quantity": back,
                          "received_quantity": back,
                          "reason": "quality_defect" if rng.random() < 0.7 else "changed_mind",
                          "resolution": "refund"})
            units += [{"unit_code": f"U{n}-{k}", "return_id": 1, "return_line_id": n + 1,
                       "item_id": item_id, "location_id": 1, "status": "restocked",
                       "grade": "A", "defects": [], "received_at": now, "received_by": "bench"}
                      for k in range(back)]
        c.execute(insert(returns).values(id=1, rma="RMA-BENCH", order_ref="O", status="closed",
                                         sold_channel="online", shipping_paid_by="customer",
                                         requested_on=today, actor="bench", created_at=now,
                                         updated_at=now))
        c.execute(insert(return_lines), lines)
        c.execute(insert(return_units), units)
        run = uow.planning.start_run(as_of=today, executor="local", workers=1, trigger="cli",
                                     actor="bench")
        uow.planning.finish_run(run, status="succeeded")
        c.execute(insert(replenishment_suggestions), [
            {"run_id": run, "as_of": today, "item_id": item_id, "location_id": 1,
             "status": "proposed", "suggested_qty": 12, "return_blind_qty": 14,
             "unit_cost": Decimal("10.00"), "value": Decimal("120.00"), "terms": {},
             "explanation": "bench", "created_at": now} for item_id in ids])
        uow.commit()
    print(f"loaded {len(ids)} items, {len(sold)} sales lines, {len(units)} returned units")


def _afresh(page, policies):
    # Lists keep the alerts a few minutes (services/suggestion_alerts.py): measure a page that
    # finds them stale, with the figures below them kept (services/report_cache.py).
    suggestion_alerts.forget()
    return page(policies=policies)


def _median_seconds(call, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, admin = args.database_url or f"sqlite:///{folder}/bench.sqlite3", None
        if url.startswith("postgresql"):
            admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{BENCH_DATABASE}"'))
            url = make_url(url).set(database=BENCH_DATABASE).render_as_string(
                hide_password=False)
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            uow_factory = partial(UnitOfWork, Database(engine))
            policies = Policies.from_settings(Settings.load(env={}))
            today = policies.returns.today()
            _load(uow_factory, args.skus, today)
            page = partial(list_suggestions, uow_factory, {}, offset=0, limit=100)
            flagged = sum(bool(s["quality_alert"]) for s in page(policies=policies)["data"])
            a, b, c = [], [], []

            def after_a_change():
                report_cache.forget()
                return _afresh(page, policies)

            for _ in range(args.rounds):  # A, B, C, A, B, C: drift hits all alike
                a.append(_median_seconds(page))
                b.append(_median_seconds(partial(_afresh, page, policies)))
                c.append(_median_seconds(after_a_change))
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"suggestions page of 100 ({flagged} marked), {args.rounds} rounds A,B,C:")
            print(f"  A without alerts  median {1000 * statistics.median(a):.1f} ms "
                  f"(rounds: {', '.join(f'{1000 * x:.1f}' for x in a)})")
            print(f"  B with alerts     median {1000 * statistics.median(b):.1f} ms "
                  f"(rounds: {', '.join(f'{1000 * x:.1f}' for x in b)})")
            print(f"  C after a change  median {1000 * statistics.median(c):.1f} ms "
                  f"(rounds: {', '.join(f'{1000 * x:.1f}' for x in c)})")
            print(f"  ratio B/A {statistics.median(b) / statistics.median(a):.2f}x, "
                  f"C/A {statistics.median(c) / statistics.median(a):.2f}x; "
                  f"load average {load}")
            cards = _median_seconds(partial(
                quality_scorecards, uow_factory, policies.returns, by="supplier",
                since=today - timedelta(days=179), until=today), repeat=args.rounds)
            print(f"scorecards by supplier, 180 days: median {1000 * cards:.1f} ms; "
                  f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            engine.dispose()
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
