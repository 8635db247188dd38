"""What bench_nightly watches while a run runs: memory per phase, and PostgreSQL's share.

getrusage's high-water mark says how big the process got, not in which phase; a sampler thread
reading the resident set every few milliseconds says that. The run's SQL executes in PostgreSQL
backends (and their parallel workers), whose CPU and memory no counter of this process sees:
a second sampler reads them from /proc for every backend connected to the run's database.
Parallel workers living shorter than the sampling interval are missed, so the backends'
CPU is a lower bound.
"""

from __future__ import annotations

import contextlib
import resource
import threading

import psutil  # the test extra installs it
import psycopg
from sqlalchemy.engine import make_url

MIB = 1024 * 1024


def peak_mib() -> tuple[float, float]:
    """(this process, largest child) resident-set high-water marks in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def print_run(run: dict, executor: str, workers: int, wall: float) -> None:
    """The run's outcome, its recorded phases and its pace, as every nightly bench prints them."""
    phases = run["figures"].get("phases", {})
    print(f"run {run['id']} {run['status']}: {executor} executor, {workers} worker(s), "
          f"{run['series_count']} series, {run['suggestion_count']} suggestions, "
          f"{run['fallback_count']} fallbacks")
    for phase in ("read_s", "forecast_s", "write_s", "total_s"):
        print(f"  {phase[:-2]:9} {phases.get(phase, 0):8.1f} s")
    print(f"  wall      {wall:8.1f} s   {run['series_count'] / wall:,.0f} series/s")


class Sampler(threading.Thread):
    def __init__(self, interval: float):
        super().__init__(daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            with contextlib.suppress(psutil.Error, OSError):  # a process that just ended
                self.sample()

    def sample(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.join()
        self.sample()


class PhaseMemory(Sampler):
    """Peak resident set of this process plus its children, and the CPU seconds they spent,
    per phase of the run. CPU seconds do not stretch when the machine is busy with others'
    work; wall time does."""

    def __init__(self, interval: float = 0.02):
        super().__init__(interval)
        self.me = psutil.Process()
        self.phase = "start"
        self.peaks: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.cpu_mark = self.cpu_used()

    def cpu_used(self) -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def enter(self, stage: str) -> None:
        self.sample()
        self.close_phase()
        # Said as it happens: a long run that is stopped still tells how far it got.
        print(f"  ... {self.phase} ended after {self.cpu[self.phase]:.1f} CPU-s, peak "
              f"{self.peaks.get(self.phase, 0):.0f} MiB; now {stage}", flush=True)
        self.phase = stage.split()[0]

    def close_phase(self) -> None:
        now = self.cpu_used()
        self.cpu[self.phase] = self.cpu.get(self.phase, 0.0) + now - self.cpu_mark
        self.cpu_mark = now

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        self.close_phase()

    def sample(self) -> None:
        rss = self.me.memory_info().rss + sum(
            c.memory_info().rss for c in self.me.children(recursive=True))
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), rss / MIB)


class BackendWatch(Sampler):
    """CPU seconds and peak resident set of the PostgreSQL backends serving ``database``
    (resident sets include the shared buffers each backend touched)."""

    def __init__(self, url: str, interval: float = 0.2):
        super().__init__(interval)
        address = make_url(url).set(drivername="postgresql")
        self.database = address.database
        # Its own connection in autocommit: within a transaction pg_stat_activity would
        # answer the same snapshot every time.
        self.conn = psycopg.connect(address.render_as_string(hide_password=False),
                                    autocommit=True)
        self.zero: dict[int, float] = {}  # CPU a backend had spent when first seen
        self.cpu: dict[int, float] = {}
        self.peak_rss = 0.0

    def backends(self) -> list[psutil.Process]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.database,)).fetchall()
        return [psutil.Process(pid) for (pid,) in rows if psutil.pid_exists(pid)]

    def __enter__(self):
        # Backends already connected count from now; ones that connect later, from birth.
        for process in self.backends():
            times = process.cpu_times()
            self.zero[process.pid] = times.user + times.system
        return super().__enter__()

    def sample(self) -> None:
        total = 0
        for process in self.backends():
            try:
                times = process.cpu_times()
                total += process.memory_info().rss
            except psutil.Error:
                continue
            self.zero.setdefault(process.pid, 0.0)
            self.cpu[process.pid] = times.user + times.system
        self.peak_rss = max(self.peak_rss, total / MIB)

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        self.conn.close()

    @property
    def cpu_seconds(self) -> float:
        return sum(used - self.zero[pid] for pid, used in self.cpu.items())
