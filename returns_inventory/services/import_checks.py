"""Checking an import's staged rows: every problem found, counted, and the order in which
the checks and the merge run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..domain.errors import FieldError, ValidationFailed
from ..persistence.uow import UnitOfWork
from .import_history import RETURNS_CHECKS
from .import_schemas import ImportKind

MAX_REPORTED_ERRORS = 1000


class ErrorReport:
    """Every problem found, counted; the first `limit` of them (by row) kept to report."""

    def __init__(self, limit: int = MAX_REPORTED_ERRORS):
        self.limit, self.total = limit, 0
        self.errors: list[FieldError] = []

    def add(self, error: FieldError) -> None:
        self.total += 1
        if len(self.errors) < self.limit:
            self.errors.append(error)

    def add_found(self, found: tuple[list, int], describe: Callable[[Any], FieldError]) -> None:
        """Add the first rows of a SQL check and its total count."""
        rows, total = found
        self.total += total
        self.errors += [describe(r) for r in rows]

    def raise_if_any(self, kind: str) -> None:
        if not self.total:
            return
        self.errors.sort(key=lambda e: (e.row or 0, e.field))
        shown = self.errors[: self.limit]
        listed = "" if self.total <= len(shown) else f"; the first {len(shown)} are listed"
        raise ValidationFailed(
            f"the {kind} file has {self.total} problem(s){listed}; nothing was imported",
            errors=shown,
            error_count=self.total,
        )


# Kinds whose merge only adds rows and leaves out every row a check below would refuse
# (a repeated key, an unknown reference), so "it added a row per line of the file" proves
# them all passed. The checks named here it cannot see, and they run before it.
_COUNTED: dict[str, frozenset[str]] = {
    "sales": frozenset(),
    "returns": frozenset({"more_than_sold"}),
}


def apply_checked(uow: UnitOfWork, spec: ImportKind, report: ErrorReport, rows: int,
                  apply: Callable[[], int]) -> int:
    """Check the staged rows and apply them; raise with every problem found instead.

    A counted kind is applied first and checked only if it added fewer rows than the file
    has (re-sent lines, or a problem: then the checks name the rows, and raising rolls the
    insert back with the rest). A clean file of new lines, the usual million-line sales
    history, so costs its one INSERT … SELECT and no extra pass over the staged rows."""
    kind = spec.name
    before = _COUNTED.get(kind)
    if before is None or report.total:
        check_staged(uow, spec, report)
        report.raise_if_any(kind)
        return apply()
    for check in sorted(before):
        report.add_found(uow.imports.returns_check(check, report.limit), RETURNS_CHECKS[check])
    applied = 0 if report.total else apply()
    if not report.total and applied == rows:
        return applied
    check_staged(uow, spec, report, skip=before)
    report.raise_if_any(kind)
    return applied


def check_staged(uow: UnitOfWork, spec: ImportKind, report: ErrorReport, *,
                 skip: frozenset[str] = frozenset()) -> None:
    """Checks that need the whole file or the database: repeats and unknown references
    (but the returns checks named in `skip`, already run)."""
    imports, limit, kind = uow.imports, report.limit, spec.name
    key = "+".join(spec.key)
    report.add_found(
        imports.duplicate_rows(kind, spec.key, limit),
        lambda r: FieldError(
            key, f"repeats row {r.first_row}: {key} must be unique in a file", row=r.row_no
        ),
    )
    if kind == "items":
        report.add_found(
            imports.duplicate_rows(kind, ("gtin",), limit),
            lambda r: FieldError("gtin", f"repeats the gtin of row {r.first_row}", row=r.row_no),
        )
        report.add_found(
            imports.gtins_taken(limit),
            lambda r: FieldError(
                "gtin", f"{r.gtin} already belongs to {r.sku} size {r.size}", row=r.row_no
            ),
        )
    if "location" in spec.names:
        report.add_found(
            imports.unknown_items(kind, limit),
            lambda r: FieldError("sku", f"no item {r.sku} in size {r.size}", row=r.row_no),
        )
        report.add_found(
            imports.unknown_locations(kind, limit),
            lambda r: FieldError("location", f"no location {r.location}", row=r.row_no),
        )
    if kind == "stock":
        report.add_found(imports.snapshot_below_reserved(limit), _below_reserved)
    if kind == "returns":
        for check, describe in RETURNS_CHECKS.items():
            if check not in skip:
                report.add_found(imports.returns_check(check, limit), describe)


def _below_reserved(r) -> FieldError:
    if r.reserved:
        reason = f"{r.on_hand} is below the {r.reserved} units reserved there"
    else:
        reason = "this location does not allow negative stock"
    return FieldError("on_hand", reason, row=r.row_no)
