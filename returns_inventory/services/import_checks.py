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


def apply_checked(uow: UnitOfWork, spec: ImportKind, report: ErrorReport, rows: int,
                  apply: Callable[[], int],
                  attempt: Callable[[], int | None] | None = None) -> int:
    """Check the staged rows and apply them; raise with every problem found instead.

    `attempt`, for a kind whose merge leaves out every row a check would refuse (sales,
    returns), merges first: adding a row per line of the file proves them all clean, so a
    clean file of new lines, the usual million-line history, costs one INSERT … SELECT and
    no pass of checks. Fewer (re-sent lines, or a problem) and the checks run, and a problem
    rolls back with the rest. An attempt answers None when it took back what it added
    (returns: their checks read the rows stored before), and then a clean file is applied
    afresh."""
    kind = spec.name
    added = None if attempt is None or report.total else attempt()
    if added == rows:
        return added
    check_staged(uow, spec, report)
    report.raise_if_any(kind)
    return apply() if added is None else added


def check_staged(uow: UnitOfWork, spec: ImportKind, report: ErrorReport) -> None:
    """Checks that need the whole file or the database: repeats and unknown references."""
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
            report.add_found(imports.returns_check(check, limit), describe)


def _below_reserved(r) -> FieldError:
    if r.reserved:
        reason = f"{r.on_hand} is below the {r.reserved} units reserved there"
    else:
        reason = "this location does not allow negative stock"
    return FieldError("on_hand", reason, row=r.row_no)
