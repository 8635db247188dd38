#!/usr/bin/env python3
"""Compare the nightly run's executors on a loaded database, charging each run per process.

    scripts/bench_nightly.py --series 100000 --database-url postgresql+psycopg://... --keep
    scripts/bench_executors.py --compare-executors --database-url .../ri_bench_...
    scripts/bench_executors.py --compare-workers --executor dask --database-url .../ri_bench_...

Each run is the real `run_forecast` on the database as an earlier `bench_nightly.py --keep`
loaded it, charged with the core-seconds of its own processes (scripts/process_cpu.py: the
driver, its pool, each Dask worker, the run's PostgreSQL backends), phase by phase.
--compare-executors alternates 1-worker runs on the local executor and on Dask;
--compare-workers alternates 1- and 2-worker runs of --executor with the machine's
two-process ceiling measured before each pair.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nightly_watch import peak_mib, print_run  # noqa: E402
from process_cpu import RunMeter, machine_ceiling, postgres_meter_args  # noqa: E402

from forecasting.synthetic import make_apparel_panel  # noqa: E402
from returns_inventory.persistence.engine import make_engine  # noqa: E402
from returns_inventory.persistence.uow import Database, UnitOfWork  # noqa: E402
from returns_inventory.services.forecast_runs import RunRequest, run_forecast  # noqa: E402
from returns_inventory.settings import Settings  # noqa: E402


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


def _warm(workers: int = 1) -> None:
    """Import and run the kernels once (statsmodels is imported on first use), so every
    process, driver or worker, is measured as it runs its second night; with ``workers``,
    the local pool's standing helpers too, as a scheduler that has run a night has them."""
    import returns_inventory.services.dask_run  # noqa: F401
    from forecasting import Planner

    panel = make_apparel_panel(300, n_weeks=130, seed=1)
    Planner(panel.sales, panel.returns, panel.stock, panel.items, workers=workers,
            chunk_size=100).fit()


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
    print_run(run, executor, workers, wall)
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
    _warm(2 if args.executor == "local" else 1)
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
    # One pair swings with the other sessions' load (±30 % at load 20): the rounds together.
    ones = sum(one["forecast_s"] for _, one, _ in rounds)
    twos = sum(two["forecast_s"] for _, _, two in rounds)
    ceiling = float(np.median([c.speedup for c, _, _ in rounds]))
    print(f"all {len(rounds)} rounds: forecast phase {ones:.1f} -> {twos:.1f} s = "
          f"{ones / twos:.2f}x against the median ceiling {ceiling:.2f}x "
          f"({ones / twos / ceiling:.2f} of it)")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (target: 2 workers "
          "reach 0.9 of the ceiling)")



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True,
                        help="a database an earlier bench_nightly.py --keep loaded")
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
                        help="address of a running Dask scheduler (default: a LocalCluster)")
    args = parser.parse_args()
    as_of = date.today()
    if args.compare_workers:
        compare_workers(args.database_url, as_of, args)
    elif args.compare_executors:
        compare_executors(args.database_url, as_of, args)
    else:
        with dask_cluster(args.executor, args.workers, args.scheduler) as cluster:
            time_run(args.database_url, as_of, args.workers, args.executor, cluster)


if __name__ == "__main__":
    main()
