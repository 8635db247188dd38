"""The bare grading app (../shared/bench/) beside the service, for bench_grading --against-bare.

The bare app is the least a grade over HTTP can do on this stack (a bearer-token read, then one
transaction: UPDATE the unit, UPDATE the balance, INSERT ledger, INSERT outbox). It is not part
of the product and is never copied into the repository: this module only finds it, gives it a
scratch database of its own and names its units.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
BARE_DATABASE = "ri_bench_bare"
BARE_TOKEN = "bare-bench-token-0123456789"
APP = "bare_grading_app:app"


def bare_dir(given: str | None) -> Path:
    """Where bare_grading_app.py is: as given, else ../shared/bench beside the checkout."""
    candidates = [Path(given)] if given else [
        ROOT.parent / "shared" / "bench", ROOT.parent.parent / "shared" / "bench"]
    for folder in candidates:
        if (folder / "bare_grading_app.py").is_file():
            return folder.resolve()
    sys.exit("--against-bare: no bare_grading_app.py in " + ", ".join(map(str, candidates)))


def load_bare(url: str, folder: Path, units: int) -> list[str]:
    """Build the bare schema with ``units`` pending units in the (fresh) database at ``url``;
    their codes, U00000001 onwards."""
    target = make_url(url)
    command = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", target.host or "127.0.0.1",
               "-p", str(target.port or 5432), "-U", target.username or "postgres",
               "-d", target.database or BARE_DATABASE, "-v", f"nunits={units}",
               "-v", f"tok={BARE_TOKEN}", "-f", str(folder / "bare_grading_schema.sql")]
    env = {**os.environ}
    if target.password:
        env["PGPASSWORD"] = target.password
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"loading the bare schema failed:\n{result.stderr}")
    return [f"U{n:08d}" for n in range(1, units + 1)]


def bare_env(url: str) -> dict[str, str]:
    """The bare app reads its database from BARE_DATABASE_URL and nothing else."""
    return {**os.environ, "BARE_DATABASE_URL": url}
