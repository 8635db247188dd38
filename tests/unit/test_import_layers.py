"""Imports point down only: the next engineer can change a lower layer's callers without
reading the layers above it, and no cycle hides behind a lazy import.

Every module is read with ``ast`` (not imported), so an import inside a function, the kind
that hid services -> jobs -> services before, counts as much as one at the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = "returns_inventory"

# Top to bottom. A module may import its own layer and any layer below it, never above.
LAYERS: tuple[tuple[str, ...], ...] = (
    # Entry points: the app factory, the JSON API, the pages, the CLI, the scheduler process
    # and the demo loaders all call services.
    (APP, f"{APP}.api", f"{APP}.web", f"{APP}.cli", f"{APP}.cli_demo", f"{APP}.cli_forecast",
     f"{APP}.cli_import", f"{APP}.cli_users", f"{APP}.jobs", f"{APP}.demo"),
    # What the entry points share: the Flask extension state, URL converters, and the one
    # HTTP layer (auth, problem documents, body limits, schemas) of the API and the pages.
    (f"{APP}.extensions", f"{APP}.path_ids", f"{APP}.http"),
    (f"{APP}.services",),
    # What services stand on: the database and the outside world.
    (f"{APP}.persistence", f"{APP}.integrations"),
    (f"{APP}.domain", f"{APP}.settings"),
)
# Pairs in one layer that must not know each other either (importer, imported).
INDEPENDENT: tuple[tuple[str, str], ...] = (
    (f"{APP}.persistence", f"{APP}.integrations"),
    (f"{APP}.integrations", f"{APP}.persistence"),
    (f"{APP}.domain", f"{APP}.settings"),
    (f"{APP}.settings", f"{APP}.domain"),
    (f"{APP}.api", f"{APP}.web"),
    (f"{APP}.web", f"{APP}.api"),
    *((f"{APP}.{low}", f"{APP}.{high}") for low in ("jobs", "demo")
      for high in ("api", "web", "cli", "cli_demo", "cli_forecast", "cli_import", "cli_users")),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, *, package: bool) -> set[str]:
    """Every module ``module`` imports, anywhere in its body, as absolute names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if package else 0)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            if node.module:
                names.add(stem)
            # `from . import fields` imports the module `fields` (its package is a parent,
            # imported whatever the line says).
            names.update(f"{stem}.{alias.name}" for alias in node.names)
    return names


def owner(name: str, units: tuple[str, ...]) -> str | None:
    """The longest unit ``name`` belongs to (``returns_inventory`` itself only exactly)."""
    found = [u for u in units if name == u or (u != APP and name.startswith(u + "."))]
    return max(found, key=len) if found else None


def upward_imports(modules: dict[str, tuple[str, bool]]) -> list[str]:
    """Each import that points up a layer or across an independent pair, as readable lines."""
    rank = {unit: depth for depth, layer in enumerate(LAYERS) for unit in layer}
    units = tuple(rank)
    wrong = []
    for module, (source, package) in sorted(modules.items()):
        seen: set[str | None] = set()  # one line per layer a module reaches up to
        for name in sorted(imported_names(source, module, package=package)):
            if module.split(".")[0] == "forecasting":
                if name.split(".")[0] == APP and APP not in seen:
                    seen.add(APP)
                    wrong.append(f"{module} imports {name}: forecasting is a library of its own")
                continue
            here, there = owner(module, units), owner(name, units)
            if here is None or there is None or here == there or there in seen:
                continue
            seen.add(there)
            if rank[there] < rank[here]:
                wrong.append(f"{module} imports {name}: {there} sits above {here}")
            elif (here, there) in INDEPENDENT:
                wrong.append(f"{module} imports {name}: {here} must not know {there}")
    return wrong


def project_modules() -> dict[str, tuple[str, bool]]:
    found = {}
    for top in (APP, "forecasting"):
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # Alembic loads these by path; they import nothing of the app
            found[module_name(path)] = (path.read_text(encoding="utf-8"),
                                        path.name == "__init__.py")
    return found


def test_no_module_imports_a_layer_above_its_own():
    modules = project_modules()
    assert f"{APP}.services.forecast_runs" in modules and "forecasting.pipeline" in modules
    assert upward_imports(modules) == []


@pytest.mark.parametrize(("module", "source", "package", "complaint"), [
    (f"{APP}.services.forecast_runs", "def run():\n    from ..jobs import scheduler\n",
     False, "jobs sits above"),
    (f"{APP}.persistence.repositories.units", "from ...services import ledger\n",
     False, "services sits above"),
    (f"{APP}.domain", "from ..settings import Settings\n", True, "must not know"),
    (f"{APP}.api.units", "from returns_inventory.web import station\n", False,
     "must not know"),
    ("forecasting.pipeline", "import returns_inventory.domain.weeks\n", False,
     "library of its own"),
])
def test_an_upward_import_anywhere_in_a_module_is_reported(module, source, package, complaint):
    [reported] = upward_imports({module: (source, package)})
    assert complaint in reported


def test_imports_downward_and_within_a_layer_are_allowed():
    modules = {
        f"{APP}.services.grading": ("from ..domain.grading import Grade\n"
                                    "from ..persistence.uow import UnitOfWork\n"
                                    "from .ledger import post_movement\n", False),
        f"{APP}.web.station": ("from ..services.grading import grade_unit\n"
                               "from ..extensions import uow_factory\n", False),
    }
    assert upward_imports(modules) == []


# The database belongs to persistence, the web framework to the entry points; the middle
# layers name neither, so a service runs the same from a request, the CLI or a Dask worker.
NO_FRAMEWORK = {
    f"{APP}.services": ("flask", "flask_smorest", "sqlalchemy", "alembic", "psycopg"),
    f"{APP}.integrations": ("flask", "flask_smorest", "sqlalchemy", "alembic", "psycopg"),
    f"{APP}.jobs": ("flask", "flask_smorest", "sqlalchemy", "alembic", "psycopg"),
    f"{APP}.demo": ("flask", "flask_smorest", "sqlalchemy", "alembic", "psycopg"),
}


def test_services_jobs_and_loaders_import_neither_sqlalchemy_nor_flask():
    wrong = []
    for module, (source, package) in sorted(project_modules().items()):
        unit = owner(module, tuple(NO_FRAMEWORK))
        if unit is None:
            continue
        for name in imported_names(source, module, package=package):
            if name.split(".")[0] in NO_FRAMEWORK[unit]:
                wrong.append(f"{module} imports {name}")
    assert sorted(set(wrong)) == []


def commits_outside_services(modules: dict[str, tuple[str, bool]]) -> list[str]:
    """Every `<something>.commit()` call in a module that is neither a service nor the unit of
    work itself: the use case owns its transaction, its callers and helpers never commit."""
    found = []
    for module, (source, _) in sorted(modules.items()):
        if module.startswith((f"{APP}.services.", f"{APP}.persistence.uow")):
            continue
        for node in ast.walk(ast.parse(source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"):
                found.append(f"{module}:{node.lineno}")
    return found


def test_only_services_commit_a_unit_of_work():
    assert commits_outside_services(project_modules()) == []


def test_a_commit_in_an_entry_point_is_reported():
    source = "def view():\n    with uow_factory() as uow:\n        uow.commit()\n"
    assert commits_outside_services({f"{APP}.api.stock": (source, False)}) == [
        f"{APP}.api.stock:3"]
