"""For concurrency tests: jobs released in their own threads at the same instant."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor


def crowd(jobs):
    """Run each job in its own thread, all released at the same instant; return results."""
    start = threading.Barrier(len(jobs))

    def run(job):
        start.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))
