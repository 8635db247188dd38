"""The returns report's cells laid out on arrays against the per-row layout before, side by
side on the bench_reads databases (scripts/bench_reads.py --keep), alternating A, B, B, A.

    BENCH_READS_SUFFIX=_shared python scripts/bench_report_cells.py [--rounds 3] [--days 60]

A: the per-row layout before (its copy in tests/unit/test_report_cells_layout.py, the test's
oracle); B: analytics_report.build_cells. Both sum the same window from the day summaries in
the database, so the ratio is of the whole computation of the cells and tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_reads_data import LARGE, SMALL, database_url  # noqa: E402

from returns_inventory.domain.sales_window import SalesWindow  # noqa: E402
from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services import analytics_report  # noqa: E402
from returns_inventory.services.analytics import size_key  # noqa: E402
from returns_inventory.services.policies import Policies  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402
from tests.unit.test_report_cells_layout import assert_same_cells, cells_before  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    policy = Policies.from_settings(Settings.load(env={})).returns
    key = size_key(tuple(policy.size_order))
    print(f"load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for size in (SMALL, LARGE):
        database = Database(make_engine(database_url(args.database_url, size)))
        until = policy.today() - timedelta(days=7)
        window = SalesWindow(until - timedelta(days=args.days - 1), until)
        times: dict[str, list[float]] = {"before": [], "arrays": []}
        kept = {}
        for round_no in range(args.rounds):
            order = ("before", "arrays") if round_no % 2 == 0 else ("arrays", "before")
            for name in order:
                build = cells_before if name == "before" else analytics_report.build_cells
                with UnitOfWork(database) as uow:
                    stamp = uow.analytics.change_stamp()
                    started = time.perf_counter()
                    kept[name] = build(uow.analytics, policy, window, key, stamp)
                    times[name].append(time.perf_counter() - started)
        assert_same_cells(kept["arrays"], kept["before"])
        a, b = (statistics.median(times[n]) for n in ("before", "arrays"))
        print(f"{size.name} ({len(kept['arrays'].item_id):,} cells, {args.days} days): "
              f"before {' / '.join(f'{1000 * t:.0f}' for t in times['before'])} ms, "
              f"arrays {' / '.join(f'{1000 * t:.0f}' for t in times['arrays'])} ms; "
              f"medians {1000 * a:.0f} against {1000 * b:.0f} ms ({b / a:.2f}x), same cells")
        database.engine.dispose()
    print(f"load average after {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
