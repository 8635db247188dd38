"""The warehouse rules import no framework, so they can be tested and reused anywhere."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import returns_inventory.domain as domain

FRAMEWORKS = ("flask", "sqlalchemy", "werkzeug", "marshmallow", "flask_smorest", "alembic")


def test_the_domain_imports_neither_flask_nor_sqlalchemy():
    modules = [f"returns_inventory.domain.{m.name}" for m in pkgutil.iter_modules(domain.__path__)]
    assert "returns_inventory.domain.stock" in modules
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r})))"
    )
    # A fresh interpreter: this test process has long since imported Flask itself.
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    assert json.loads(result.stdout) == []
