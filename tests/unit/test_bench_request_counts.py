"""The grading benchmark's count of requests per gunicorn worker (scripts/bench_gunicorn.py):
what it prints to show how the clients were spread must be every request, by worker."""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[2]


def _config():
    spec = importlib.util.spec_from_file_location(
        "bench_gunicorn", ROOT / "scripts" / "bench_gunicorn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_request_of_a_worker_s_threads_is_counted_under_its_pid(tmp_path, monkeypatch):
    counts = tmp_path / "counts"
    monkeypatch.setenv("BENCH_REQUEST_COUNTS", str(counts))
    config = _config()
    config.on_starting(server=None)
    assert config.request_counts(counts) == {}

    config.post_fork(server=None, worker=SimpleNamespace(age=3))
    threads = [threading.Thread(target=lambda: [
        config.post_request(None, None, {}, None) for _ in range(500)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert config.request_counts(counts) == {os.getpid(): 8 * 500}


def test_without_the_file_named_nothing_is_counted(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_REQUEST_COUNTS", raising=False)
    config = _config()
    config.on_starting(server=None)
    config.post_fork(server=None, worker=SimpleNamespace(age=1))
    config.post_request(None, None, {}, None)  # nothing to count into, and no error
    assert not list(tmp_path.iterdir())
