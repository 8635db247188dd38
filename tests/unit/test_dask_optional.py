"""Dask is an optional extra: without it the app, the scheduler and the CLI start, and asking
for a run on the dask executor says which extra to install.

Each check runs in a fresh interpreter where a sitecustomize hides dask and distributed, as if
`pip install -e .` had been run without `[dask]` (the test venv has the extra installed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HINT = "pip install -e '.[dask]'"

HIDE_DASK = """\
import sys
for name in ("dask", "distributed"):
    sys.modules[name] = None  # `import dask` now raises ImportError
"""

# Every module of both packages imports, and the app builds and answers, without dask.
IMPORT_ALL_AND_SERVE = """\
import importlib, pkgutil, sys
import forecasting, returns_inventory

names = []
for package in (returns_inventory, forecasting):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        # __main__ modules run on import; migrations need Alembic's context.
        if module.name.endswith("__main__") or ".migrations" in module.name:
            continue
        importlib.import_module(module.name)
        names.append(module.name)
assert "returns_inventory.services.dask_executor" in names and "returns_inventory.cli" in names

from returns_inventory import create_app
answer = create_app().test_client().get("/healthz")
assert answer.status_code == 200, answer.data
assert sys.modules["dask"] is None and sys.modules["distributed"] is None
print("served without dask")
"""


@pytest.fixture
def no_dask(tmp_path) -> dict[str, str]:
    """The environment of a process without dask, on a database of its own."""
    hide = tmp_path / "hide_dask"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE_DASK)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RI_")}
    env.update(PYTHONPATH=str(hide), RI_DATABASE_URL=f"sqlite:///{tmp_path / 'ri.sqlite3'}",
               RI_INSTANCE_PATH=str(tmp_path / "instance"), RI_SECRET_KEY="test-secret")
    # The blocker really hides it, so the checks below cannot pass with dask imported.
    hidden = _python(env, "-c", "import dask")
    assert hidden.returncode != 0 and "import of dask halted" in hidden.stderr
    return env


def _python(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def _cli(env, *args) -> subprocess.CompletedProcess:
    return _python(env, "-c", "from returns_inventory.cli import main; main()", *args)


def test_every_module_imports_and_the_app_serves_without_dask(no_dask):
    served = _python(no_dask, "-c", IMPORT_ALL_AND_SERVE)
    assert served.returncode == 0, served.stderr
    assert "served without dask" in served.stdout


def test_the_cli_and_the_scheduler_start_without_dask(no_dask):
    upgraded = _cli(no_dask, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    scheduler = subprocess.Popen([sys.executable, "-m", "returns_inventory.jobs"], cwd=ROOT,
                                 env=no_dask, stderr=subprocess.PIPE, text=True)
    try:
        # It logs its jobs once it is up; a failed import ends it (and the stream) first.
        lines = []
        for line in scheduler.stderr:
            lines.append(line)
            if ": jobs " in line:
                break
        assert any(": jobs " in line for line in lines), "".join(lines)
        assert scheduler.poll() is None, "".join(lines)
    finally:
        scheduler.send_signal(signal.SIGTERM)
        scheduler.communicate(timeout=60)


def test_a_dask_run_without_dask_is_refused_naming_the_extra(no_dask):
    assert _cli(no_dask, "db", "upgrade").returncode == 0
    refused = _cli(no_dask, "forecast", "run", "--executor", "dask")
    assert refused.returncode == 2, refused.stderr
    assert HINT in refused.stderr and "Traceback" not in refused.stderr


def test_the_dask_client_without_dask_names_the_extra(monkeypatch):
    """A run asked for while dask was installed and started after it was removed."""
    from returns_inventory.domain.errors import ValidationFailed
    from returns_inventory.services.dask_executor import dask_client, dask_installed

    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert not dask_installed()
    with pytest.raises(ValidationFailed) as refused, dask_client(None, 1):
        pass
    assert HINT in refused.value.detail
    assert [e.field for e in refused.value.errors] == ["executor"]

