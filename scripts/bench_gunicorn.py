"""gunicorn config for benchmarks (`-c scripts/bench_gunicorn.py`): scripts/run's hooks, plus a
count of the requests each worker answered, to show how the clients were spread.

The counts live in a file named by BENCH_REQUEST_COUNTS, mapped into memory: a slot of two
64-bit integers (pid, requests) per worker, each worker writing only its own slot, so a
request costs a lock and one `pack_into`. `request_counts(path)` reads them from any process
(the benchmark, between rounds). Both apps a benchmark compares are served with this file.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
from pathlib import Path

from returns_inventory.gunicorn_config import child_exit, post_worker_init, pre_fork

__all__ = ["child_exit", "on_starting", "post_fork", "post_request", "post_worker_init",
           "pre_fork", "request_counts"]

ENV = "BENCH_REQUEST_COUNTS"
SLOTS = 64
SLOT = struct.Struct("<qq")


class _Counter:
    def __init__(self, path: str, slot: int):
        with open(path, "r+b") as file:
            self.map = mmap.mmap(file.fileno(), SLOT.size * SLOTS)
        self.offset, self.pid, self.count = slot * SLOT.size, os.getpid(), 0
        self.lock = threading.Lock()  # the worker's threads share the slot
        SLOT.pack_into(self.map, self.offset, self.pid, 0)

    def add(self) -> None:
        with self.lock:
            self.count += 1
            SLOT.pack_into(self.map, self.offset, self.pid, self.count)


_counter: list[_Counter] = []  # this worker's, when counting


def on_starting(server) -> None:
    if path := os.environ.get(ENV):
        Path(path).write_bytes(bytes(SLOT.size * SLOTS))


def post_fork(server, worker) -> None:
    if path := os.environ.get(ENV):
        _counter.append(_Counter(path, worker.age % SLOTS))


def post_request(worker, req, environ, resp) -> None:
    if _counter:
        _counter[0].add()


def request_counts(path: str | Path) -> dict[int, int]:
    """Requests answered so far, by worker pid."""
    data = Path(path).read_bytes()
    slots = (SLOT.unpack_from(data, n * SLOT.size) for n in range(len(data) // SLOT.size))
    return {pid: count for pid, count in slots if pid}
