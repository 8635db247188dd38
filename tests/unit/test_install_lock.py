"""Installs are reproducible: requirements/constraints.txt pins everything scripts/run and
scripts/test install, and scripts/_venv.sh installs within it, again whenever it changes."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = "requirements/constraints.txt"


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / LOCK).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_the_lock_pins_every_requirement_within_what_pyproject_allows():
    """Fails after a dependency is added or its range moved until ./scripts/lock is run."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert set(extras) == {"test", "dask"}, "scripts/lock installs [test,dask]: add new extras"
    pins = _pins()
    wanted = [Requirement(r) for r in project["dependencies"] + extras["test"] + extras["dask"]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in {LOCK}: run ./scripts/lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{LOCK} pins {name}=={pins[name]}, outside {requirement}: run ./scripts/lock")
    # Extras of requirements bring packages of their own; those are pinned too.
    assert {"distributed", "psycopg-binary"} <= set(pins)


@pytest.fixture
def project(tmp_path) -> Path:
    """A checkout whose .venv's python only records the pip commands it is given."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "requirements").mkdir()
    shutil.copy(ROOT / LOCK, tmp_path / LOCK)
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text('#!/bin/sh\necho "$*" >>"$(dirname "$0")/../../pip.log"\n')
    python.chmod(0o755)
    return tmp_path


def _ensure_installed(project: Path, extras: str = "") -> list[str]:
    """Source scripts/_venv.sh and call ensure_installed; the pip commands it ran."""
    log = project / "pip.log"
    log.unlink(missing_ok=True)
    done = subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . "$0"; ensure_installed {extras}',
         ROOT / "scripts" / "_venv.sh"], cwd=project, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_installs_are_pinned_by_the_lock_and_happen_once(project):
    assert _ensure_installed(project) == [
        f"-m pip install --disable-pip-version-check -q -c {LOCK} -e ."]
    assert _ensure_installed(project) == []


def test_a_test_install_with_dask_also_serves_plain_and_dask_runs(project):
    _ensure_installed(project)
    assert _ensure_installed(project, "test,dask")[0].endswith(f"-c {LOCK} -e .[dask,test]")
    assert _ensure_installed(project) == []
    assert _ensure_installed(project, "dask") == []


def test_a_refreshed_lock_reinstalls_every_extra_installed_before(project):
    _ensure_installed(project, "test,dask")
    with (project / LOCK).open("a") as lock:
        lock.write("zipp==3.99.0\n")
    assert _ensure_installed(project)[0].endswith(f"-c {LOCK} -e .[dask,test]")
    assert _ensure_installed(project, "test") == []


def test_a_changed_pyproject_reinstalls(project):
    _ensure_installed(project)
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# changed\n")
    assert len(_ensure_installed(project)) == 1


def test_without_the_lock_the_install_stops_and_says_how_to_make_it(project):
    (project / LOCK).unlink()
    done = subprocess.run(["bash", "-c", '. "$0"; ensure_installed',
                           ROOT / "scripts" / "_venv.sh"], cwd=project, capture_output=True,
                          text=True)
    assert done.returncode != 0 and "./scripts/lock" in done.stderr
    assert not (project / "pip.log").exists()
