"""Group commit against one transaction per grade, in paired rounds on one database.

    python scripts/bench_group_commit.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/x
        [--units 1500] [--clients 16] [--rounds 4]

The graders' one-unit requests reach `services/grading_group.py` (GradingGroups.grade: grades
that arrive while a grading transaction runs share the next one); without it each would call
`grade_unit` in a transaction of its own. This script loads rounds x units one-unit returns
(as scripts/bench_grading.py does), then grades them in alternating rounds, A (groups) and B
(grade_unit), A, B, ..., each round `--clients` threads in this process grading its own units
once, and prints both rates per round, the ratio A/B per pair, and the load average. No HTTP:
both arms pay the same HTTP costs in the service, so they are left out of the comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_grading import GRADES, bench_database, load  # noqa: E402

from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services.grading import grade_unit  # noqa: E402
from returns_inventory.services.grading_group import GradingGroups  # noqa: E402
from returns_inventory.services.policies import Policies  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402


def graded_per_second(grade: Callable[[str, str], object], unit_ids: list[str],
                      clients: int) -> tuple[float, int]:
    """Units per second with `clients` threads grading `unit_ids` once; and the failures."""

    def attempt(n: int) -> bool:
        try:
            grade(unit_ids[n], GRADES[n % len(GRADES)])
            return True
        except Exception:  # noqa: BLE001 - counted and reported; the round goes on
            return False

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        done = sum(pool.map(attempt, range(len(unit_ids))))
    return len(unit_ids) / (time.perf_counter() - started), len(unit_ids) - done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--units", type=int, default=1500, help="units graded per round")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="rounds, alternating A and B")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()

    # A name of its own: another engineer's bench_grading run may hold ri_bench_grading.
    name = f"ri_bench_group_commit_{os.getpid()}"
    with bench_database(args.database_url, args.keep, name) as url:
        unit_ids = load(url, args.units * args.rounds)
        engine = make_engine(url, pool_size=args.clients, max_overflow=0)
        uow_factory = partial(UnitOfWork, Database(engine))
        policies = Policies.from_settings(Settings.load(env={}))
        groups = GradingGroups(uow_factory, policies)
        arms = {
            "A groups": lambda u, g: groups.grade(unit_id=u, grade=g, actor="bench"),
            "B alone": lambda u, g: grade_unit(uow_factory, policies, unit_id=u, grade=g,
                                               actor="bench"),
        }
        rates: dict[str, list[float]] = {name: [] for name in arms}
        for n in range(args.rounds):
            name = list(arms)[n % 2]
            chunk = unit_ids[n * args.units:(n + 1) * args.units]
            load_now = os.getloadavg()[0]
            rate, failed = graded_per_second(arms[name], chunk, args.clients)
            rates[name].append(rate)
            print(f"round {n + 1} {name}: {rate:.0f} units/s, {failed} failed "
                  f"(load average {load_now:.2f} on {os.cpu_count()} CPUs)", flush=True)
        engine.dispose()
    pairs = [a / b for a, b in zip(rates["A groups"], rates["B alone"], strict=False)]
    print("groups units/s: " + ", ".join(f"{r:.0f}" for r in rates["A groups"]))
    print("alone  units/s: " + ", ".join(f"{r:.0f}" for r in rates["B alone"]))
    print("ratio groups/alone per pair: " + ", ".join(f"{r:.2f}" for r in pairs)
          + (f"; median {statistics.median(pairs):.2f}" if pairs else ""))
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
