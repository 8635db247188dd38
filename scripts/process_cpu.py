"""Core-seconds of the processes that take part in a nightly run, counted per process.

The machine is shared: its busy time counts everyone's work, so a run is charged only for its
own processes. The driver (this process, with its threads: the Dask scheduler of a LocalCluster
and the nannies run here), the children it has reaped (the local process pool), the Dask
workers named by pid, and the PostgreSQL backends serving the run's database: those are found
by their process title (``postgres: ... <user> <database> ...``), with the parallel workers of
those backends (``parallel worker for PID n``). Backends come and go (parallel workers live for
one query), so a thread samples them every ``interval`` seconds and keeps the last reading of
each; a process that ends loses at most the CPU of its last interval. The sampler's own CPU is
taken off the driver's.

Also here: the speed-up ceiling this machine gives two CPU-bound processes right now (a numpy
loop, one copy alone against two at once), against which a two-worker figure is judged.
"""

from __future__ import annotations

import itertools
import multiprocessing
import re
import resource
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import psutil

PARALLEL = re.compile(r"parallel worker for PID (\d+)")


def _cpu(times) -> float:
    return times.user + times.system


@dataclass
class Charge:
    """Core-seconds per part of a run, and the run's wall time."""

    wall: float
    driver: float
    pool: float  # reaped children of the driver: the local process pool
    workers: dict[int, float] = field(default_factory=dict)
    database: float = 0.0
    backends: int = 0
    # (phase, driver incl. pool, workers, database) core-seconds, phase by phase
    phases: list[tuple[str, float, float, float]] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.driver + self.pool + sum(self.workers.values()) + self.database

    def describe(self) -> str:
        workers = (f", Dask workers {' + '.join(f'{v:.1f}' for v in self.workers.values())}"
                   if self.workers else "")
        pool = f", process pool {self.pool:.1f}" if self.pool >= 0.05 else ""
        return (f"{self.total:.1f} core-s: driver {self.driver:.1f}{pool}{workers}, "
                f"PostgreSQL {self.database:.1f} ({self.backends} backends)")

    def describe_phases(self) -> str:
        return "; ".join(f"{name} {d:.1f} + {w:.1f} + {db:.1f}"
                         for name, d, w, db in self.phases)


class RunMeter:
    """Count the CPU of the run's processes from ``start()`` to ``stop()``."""

    def __init__(self, database: str | None, postmaster: int | None,
                 worker_pids: tuple[int, ...] = (), interval: float = 0.1):
        self.database = database
        self.postmaster = psutil.Process(postmaster) if postmaster else None
        self.workers = {pid: psutil.Process(pid) for pid in worker_pids}
        self.interval = interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_loop, daemon=True)
        self._lock = threading.Lock()
        self._sampler_cpu = 0.0
        self._marks: list[tuple[str, tuple[float, float, float]]] = []
        self._servers: dict[int, float] = {}  # fork servers' CPU when first seen
        self._starting = True

    def start(self) -> RunMeter:
        me = psutil.Process()
        self._driver0 = _cpu(me.cpu_times())
        self._children0 = self._reaped()
        self._starting = False  # a fork server started from now on is the run's
        self._workers0 = {pid: _cpu(p.cpu_times()) for pid, p in self.workers.items()}
        self._sample(initial=True)
        self._wall0 = time.perf_counter()
        self._thread.start()
        return self

    def mark(self, phase: str) -> None:
        """Start counting ``phase`` (the time before the first mark is not a phase)."""
        self._marks.append((phase, self._reading()))

    def stop(self) -> Charge:
        wall = time.perf_counter() - self._wall0
        self._stop.set()
        self._thread.join()
        end = self._reading()
        driver = _cpu(psutil.Process().cpu_times()) - self._driver0 - self._sampler_cpu
        workers = {pid: _cpu(p.cpu_times()) - self._workers0[pid]
                   for pid, p in self.workers.items()}
        database = sum(self.last[pid] - self.first.get(pid, 0.0) for pid in self.last)
        marks = [*self._marks, ("", end)]
        phases = [(name, *(b - a for a, b in zip(x, y, strict=True)))
                  for (name, x), (_, y) in itertools.pairwise(marks)]
        return Charge(wall=wall, driver=driver, pool=self._reaped() - self._children0,
                      workers=workers, database=database, backends=len(self.last),
                      phases=phases)

    def _reading(self) -> tuple[float, float, float]:
        """(driver with its reaped children, workers, database) CPU so far."""
        self._sample()
        driver = _cpu(psutil.Process().cpu_times()) - self._sampler_cpu + self._reaped()
        workers = sum(_cpu(p.cpu_times()) for p in self.workers.values())
        with self._lock:
            database = sum(self.last[pid] - self.first.get(pid, 0.0) for pid in self.last)
        return driver, workers, database

    def _reaped(self) -> float:
        """CPU of the local process pool so far: children this process reaped (spawned
        helpers), and the fork server with the helpers it forked, running (the standing
        helpers of forecasting.parallel) or reaped."""
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        total = usage.ru_utime + usage.ru_stime
        for child in psutil.Process().children():
            try:
                if "forkserver" not in " ".join(child.cmdline()):
                    continue
                times = child.cpu_times()
                helpers = [(p.pid, _cpu(p.cpu_times())) for p in child.children()]
            except psutil.Error:
                continue
            used = times.user + times.system + times.children_user + times.children_system
            for pid, cpu in [(child.pid, used), *helpers]:
                total += cpu - self._servers.setdefault(pid, cpu if self._starting else 0.0)
        return total

    def _sample_loop(self) -> None:
        while not self._stop.wait(self.interval):
            started = time.thread_time()
            self._sample()
            self._sampler_cpu += time.thread_time() - started

    def _sample(self, initial: bool = False) -> None:
        if self.postmaster is None:
            return
        with self._lock:
            self._sample_locked(initial)

    def _sample_locked(self, initial: bool) -> None:
        ours: set[int] = set()
        found: list[tuple[psutil.Process, str]] = []
        for proc in self.postmaster.children():
            try:
                found.append((proc, " ".join(proc.cmdline())))
            except psutil.Error:
                continue
        for proc, title in found:
            if f" {self.database} " in title:
                ours.add(proc.pid)
        for proc, title in found:
            leader = PARALLEL.search(title)
            mine = proc.pid in ours or (leader is not None and int(leader.group(1)) in ours)
            if not mine:
                continue
            try:
                used = _cpu(proc.cpu_times())
            except psutil.Error:
                continue
            if initial:
                self.first[proc.pid] = used  # charged only for what it does from now on
            self.last[proc.pid] = used


def postgres_meter_args(engine) -> tuple[str | None, int | None]:
    """(database name, postmaster pid) when ``engine`` is a PostgreSQL on this machine."""
    if engine.dialect.name != "postgresql":
        return None, None
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        name = conn.exec_driver_sql("SELECT current_database()").scalar_one()
    try:
        return name, psutil.Process(pid).ppid()
    except psutil.Error:  # a server elsewhere: its backends cannot be charged from here
        return None, None


def _spin(n: int) -> tuple[float, float]:
    """A fixed amount of CPU-bound numpy work on one thread (element-wise: no BLAS threads);
    returns its (wall, CPU) seconds."""
    a = np.linspace(0.0, 1.0, 50_000)
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        a = np.sin(a) * 1.5 + 0.25
    return time.perf_counter() - started, time.process_time() - cpu


@dataclass(frozen=True)
class Ceiling:
    """What two CPU-bound processes gain over one on this machine now."""

    one: float  # wall of one copy alone
    two: float  # wall of two copies at once
    cores: float  # cores the two copies kept busy together

    @property
    def speedup(self) -> float:
        return 2 * self.one / self.two

    def describe(self) -> str:
        return (f"numpy loop: 1 copy {self.one:.2f} s, 2 copies at once {self.two:.2f} s -> "
                f"{self.speedup:.2f}x, {self.cores:.2f} cores busy")


def machine_ceiling(seconds: float = 1.0, rounds: int = 3) -> Ceiling:
    """The speed-up ceiling two workers have here now, from a CPU-bound numpy loop in two
    fresh processes: one copy alone against two at once, in alternating rounds (medians)."""
    ctx = multiprocessing.get_context("spawn")
    ones, twos, cores = [], [], []
    with ctx.Pool(2) as pool:
        pool.map(_spin, [1, 1], chunksize=1)  # started and imported before timing
        wall, _ = pool.apply(_spin, (200,))
        per = max(1, int(seconds * 200 / max(wall, 1e-6)))
        for _ in range(rounds):
            started = time.perf_counter()
            pool.apply(_spin, (per,))
            ones.append(time.perf_counter() - started)
            started = time.perf_counter()
            both = pool.map(_spin, [per, per], chunksize=1)
            twos.append(time.perf_counter() - started)
            cores.append(sum(cpu for _, cpu in both) / twos[-1])
    return Ceiling(float(np.median(ones)), float(np.median(twos)), float(np.median(cores)))
