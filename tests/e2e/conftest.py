"""The real server over real HTTP: a migrated database, a token from the real CLI, gunicorn.

One server per backend (SQLite always, PostgreSQL with TEST_DATABASE_URL) for the whole session,
on a loopback port the kernel picks, with two workers so requests really cross processes. Tests
share it, so each one names its own items and locations (the `unique` fixture).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import gunicorn
import pytest
import requests

from returns_inventory.settings import PROJECT_ROOT
from tests.databases import POSTGRES_SKIP_REASON, POSTGRES_URL, fresh_database
from tests.e2e.bench import parcel  # noqa: F401  (a return to receive, for the bench's tests)
from tests.e2e.browser import browser  # noqa: F401  (the Chromium fixture for browser tests)

START_TIMEOUT_S = 60
LISTENING = re.compile(r"Listening at: (http://\S+)")


def _cli_command() -> list[str]:
    """The `returns-inventory` entry point of the environment running the tests."""
    script = Path(sys.executable).parent / "returns-inventory"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from returns_inventory.cli import main; main()"]


@dataclass
class LiveServer:
    base_url: str
    admin_token: str
    database_url: str
    env: dict[str, str]
    folder: Path
    log_path: Path
    session: requests.Session = field(default_factory=requests.Session)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `returns-inventory ARGS` against this server's database."""
        return _run_cli(args, self.env, self.folder, check=check)

    def url(self, path: str) -> str:
        return self.base_url + path

    def headers(self, token: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin_token}", **extra}

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("headers", self.headers())
        return self.session.get(self.url(path), timeout=30, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("headers", self.headers())
        return self.session.post(self.url(path), timeout=120, **kwargs)

    def import_csv(self, kind: str, text: str, **headers: str) -> requests.Response:
        """POST /api/v1/imports/KIND with a CSV body, as the admin."""
        return self.post(
            f"/api/v1/imports/{kind}",
            data=text.encode(),
            headers=self.headers(**{"Content-Type": "text/csv"}, **headers),
        )


def _run_cli(args, env, cwd, *, check=True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*_cli_command(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"returns-inventory {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def _server_env(database_url: str, instance: Path) -> dict[str, str]:
    # The outer environment's RI_* settings (a developer's RI_BIND, RI_DATABASE_URL...) must
    # not leak into the server under test.
    env = {k: v for k, v in os.environ.items() if not k.startswith("RI_")}
    env.update(
        RI_DATABASE_URL=database_url,
        RI_INSTANCE_PATH=str(instance),
        RI_SECRET_KEY=uuid.uuid4().hex,
        RI_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        # As scripts/run: the workers and the scheduler sum their metrics in one folder.
        PROMETHEUS_MULTIPROC_DIR=str(instance.parent / "metrics"),
    )
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    return env


def _gunicorn_command() -> list[str]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "2",
        # Served as scripts/run serves: the app preloaded before the fork, threaded workers.
        "--preload",
        "--threads",
        "8",
        "--timeout",
        "120",
        "--graceful-timeout",
        "5",
        "-c",
        "python:returns_inventory.gunicorn_config",
    ]
    if gunicorn.version_info >= (27,):
        # Every gunicorn 27 shares ~/.gunicorn/gunicorn.ctl; don't take a developer's over.
        command.append("--no-control-socket")
    return [*command, "returns_inventory:create_app()"]


def _start_gunicorn(env: dict[str, str], folder: Path, log_path: Path):
    log = log_path.open("w")
    process = subprocess.Popen(
        _gunicorn_command(),
        env=env,
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    return process


def _wait_until_ready(process: subprocess.Popen, log_path: Path) -> str:
    """Port 0 lets the kernel choose a free port; gunicorn's log says which one it got."""
    deadline = time.monotonic() + START_TIMEOUT_S
    base_url = None
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}"
            )
        if base_url is None and (found := LISTENING.search(log_path.read_text())):
            base_url = found.group(1)
        if base_url is not None:
            # The port accepts before a worker has imported the app, so a slow first
            # answer is normal: wait for it rather than count it as a failure.
            try:
                response = requests.get(base_url + "/readyz", timeout=10)
                if response.status_code == 200:
                    return base_url
                last_error = f"/readyz answered {response.status_code}: {response.text}"
            except requests.RequestException as exc:
                last_error = str(exc)
        time.sleep(0.1)
    raise RuntimeError(
        f"the server was not ready after {START_TIMEOUT_S}s ({last_error}):\n{log_path.read_text()}"
    )


# The scheduler beside the server runs what the API and the Run now button request; only that
# job, polled every second, so nothing else (webhooks, the nightly run) moves under the tests;
# the webhook dispatcher is off.
SCHEDULES = """
[jobs.run-requested-forecasts]
every_seconds = 1
misfire_grace_seconds = 1
lease_seconds = 3600
"""


def _start_scheduler(env: dict[str, str], folder: Path, log_path: Path):
    config = folder / "scheduler-config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    (config / "schedules.toml").write_text(SCHEDULES)
    webhooks = (config / "webhooks.toml").read_text()
    (config / "webhooks.toml").write_text(
        webhooks.replace("\nenabled = true\n", "\nenabled = false\n", 1))  # [dispatcher]
    forecasting = (config / "forecasting.toml").read_text()
    (config / "forecasting.toml").write_text(
        forecasting.replace("[schedule]\n", "[schedule]\nenabled = false\n", 1))
    with log_path.open("w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "returns_inventory.jobs"], cwd=folder,
            env={**env, "RI_CONFIG_DIR": str(config)},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def live_server(request, tmp_path_factory) -> Iterator[LiveServer]:
    """A real gunicorn server on a fresh database migrated and provisioned by the real CLI."""
    backend = request.param
    if backend == "postgresql" and not POSTGRES_URL:
        pytest.skip(POSTGRES_SKIP_REASON)
    folder = tmp_path_factory.mktemp(f"e2e-{backend}")
    with fresh_database(backend, folder, migrated=False) as database_url:
        env = _server_env(database_url, folder / "instance")
        _run_cli(["db", "upgrade"], env, folder)
        admin_token = _run_cli(
            ["token", "create", "--name", "e2e-admin", "--role", "admin"], env, folder
        ).stdout.strip()
        log_path = folder / "gunicorn.log"
        process = _start_gunicorn(env, folder, log_path)
        scheduler = _start_scheduler(env, folder, folder / "scheduler.log")
        try:
            base_url = _wait_until_ready(process, log_path)
            server = LiveServer(base_url, admin_token, database_url, env, folder, log_path)
            yield server
            server.session.close()
        finally:
            _stop(process)
            _stop(scheduler)


@pytest.fixture
def unique() -> Callable[[str], str]:
    """unique("TEE") -> "TEE-3F2A9C": codes that never collide on the shared server."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


@pytest.fixture
def shop(live_server, unique) -> dict[str, str]:
    """A warehouse, a store and one SKU in sizes M and L, imported as CSV over HTTP."""
    codes = {"sku": unique("TEE"), "warehouse": unique("WH"), "store": unique("ST")}
    locations = live_server.import_csv(
        "locations",
        "code,name,type\n"
        f"{codes['warehouse']},Central warehouse,warehouse\n"
        f"{codes['store']},High street,store\n",
    )
    assert locations.status_code == 201, locations.text
    items = live_server.import_csv(
        "items",
        "sku,size,category,unit_cost,price,lead_time_days\n"
        f"{codes['sku']},M,tops,8.50,25.00,21\n"
        f"{codes['sku']},L,tops,8.50,25.00,21\n",
    )
    assert items.status_code == 201, items.text
    return codes
