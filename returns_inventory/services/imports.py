"""Bulk ERP imports: read and check the whole file, then apply it all or nothing.

One transaction per file. Rows stream from the file into a staging table (COPY on
PostgreSQL), every check runs there, and only a clean file is kept; a bad one rolls back
and answers with its bad rows. A file is recognised by (kind, SHA-256 of its bytes) and a
re-sent one changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from .. import metrics
from ..domain.errors import FieldError, NotFound, ValidationFailed
from ..domain.stock import BalanceKey, Condition, Movement, MovementType
from ..persistence.uow import UnitOfWork, UowFactory
from ..services.import_formats import Record, Records
from ..services.import_schemas import KINDS, ImportKind
from .import_checks import MAX_REPORTED_ERRORS, ErrorReport, apply_checked
from .import_history import BadColumn, resolver
from .ledger import post_movement

__all__ = ["MAX_REPORTED_ERRORS", "ErrorReport", "ImportResult", "import_kind", "import_rows"]


@dataclass(frozen=True)
class ImportResult:
    batch_id: int
    kind: str
    rows: int
    applied: int  # rows that added or changed something (stock: movements posted)
    skipped: int  # rows already in that state (re-sent lines, unchanged records)
    duplicate: bool  # the whole file had been imported before; nothing was done now
    sha256: str
    actor: str  # who imported the file (for a duplicate: the first importer)
    imported_at: datetime


def import_kind(kind: str) -> ImportKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise NotFound(
            f"there is no import of {kind!r}",
            errors=[FieldError("kind", f"one of {', '.join(KINDS)}")],
        ) from None


def import_rows(
    uow_factory: UowFactory,
    kind: str,
    source: IO[bytes],
    *,
    fmt: str,
    sha256: str,
    actor: str,
    batch_size: int = 5000,
    gzipped: bool | None = None,
    max_bytes: int | None = None,
    max_row_bytes: int | None = None,
    on_read: Callable[[int], Any] | None = None,
    policies=None,
) -> ImportResult:
    """Import one ERP file of `kind` (CSV or JSON array, gzip detected) all or nothing.

    `policies` (services.policies.Policies) maps the reason codes of a returns file."""
    spec = import_kind(kind)
    resolve = resolver(kind, policies)
    watch = metrics.Stopwatch()
    try:
        result = _import(uow_factory, spec, sha256=sha256, actor=actor, batch_size=batch_size,
                         resolve=resolve, records=lambda: Records(source, fmt, gzipped=gzipped,
                                                 max_bytes=max_bytes,
                                                 max_row_bytes=max_row_bytes, on_read=on_read))
    except Exception:
        metrics.import_failures.labels(kind).inc()
        raise
    if not result.duplicate:
        metrics.import_rows.labels(kind).inc(result.rows)
        metrics.import_seconds.labels(kind).observe(watch.seconds)
    return result


def _import(uow_factory, spec: ImportKind, *, sha256, actor, batch_size, resolve,
            records) -> ImportResult:
    kind = spec.name
    with uow_factory() as uow:
        batch_id = uow.imports.claim_batch(kind=kind, sha256=sha256, actor=actor)
        if batch_id is None:
            return _earlier_import(uow.imports.batch_by_hash(kind, sha256))
        report = ErrorReport()
        rows = _stage(uow, spec, records(), report, batch_size, resolve)
        attempt = _ATTEMPT.get(kind)
        applied = apply_checked(
            uow, spec, report, rows,
            lambda: _APPLY[kind](uow, batch_id=batch_id, actor=actor, batch_size=batch_size),
            attempt and (lambda: attempt(uow, batch_id, rows)))
        uow.imports.drop_staged(kind)
        uow.imports.finish_batch(batch_id, rows=rows, applied=applied, skipped=rows - applied)
        uow.events.add(
            "import.applied",
            {
                "batch_id": batch_id,
                "kind": kind,
                "rows": rows,
                "applied": applied,
                "skipped": rows - applied,
                "sha256": sha256,
            },
            actor=actor,
        )
        uow.commit()
    return ImportResult(
        batch_id, kind, rows, applied, rows - applied, False, sha256, actor, datetime.now(UTC)
    )


def _earlier_import(batch) -> ImportResult:
    return ImportResult(
        batch.id,
        batch.kind,
        batch.row_count,
        batch.applied_count,
        batch.skipped_count,
        True,
        batch.content_sha256,
        batch.actor,
        batch.created_at,
    )


def _stage(uow: UnitOfWork, spec: ImportKind, records: Records, report: ErrorReport,
           batch_size: int, resolve: Callable[[tuple], tuple] | None) -> int:
    """Parse every row into the staging table; returns the number of data rows."""
    if records.header is not None and (wrong := spec.header_errors(records.header)):
        raise ValidationFailed(
            f"the CSV header does not fit the {spec.name} import; nothing was imported",
            errors=wrong,
            error_count=len(wrong),
        )
    rows = 0
    with uow.imports.stage(spec.name, batch_size=batch_size) as staged:
        if records.header is None:  # JSON: every object brings its own keys
            for record in records:
                rows = record.row
                _stage_row(staged, spec, report, resolve, record, check_unknown=True)
            return rows
        header = records.header
        for batch in records.csv_batches(batch_size):
            rows = max(rows, *batch.rows[-1:], *(p.row for p in batch.problems[-1:]))
            # A batch of valid cells goes in column by column; one with a cell to name, or
            # needing the policies per row, row by row (in row order, as errors are kept).
            columns = (None if resolve or batch.problems
                       else spec.parse_columns(header, batch.cells))
            if columns is not None:
                staged.add_columns(batch.rows, columns)
                continue
            parsed = [Record(row, dict(zip(header, cells, strict=True)))
                      for row, cells in zip(batch.rows, batch.cells, strict=True)]
            for record in sorted(parsed + batch.problems, key=lambda r: r.row):
                _stage_row(staged, spec, report, resolve, record, check_unknown=False)
    return rows


def _stage_row(staged, spec: ImportKind, report: ErrorReport,
               resolve: Callable[[tuple], tuple] | None, record: Record, *,
               check_unknown: bool) -> None:
    """Parse one row into the staging table, or note its problems."""
    if record.problem:
        report.add(FieldError(record.field, record.problem, row=record.row))
        return
    values, errors = spec.parse_row(record.values, check_unknown=check_unknown)
    if resolve and not errors and values is not None:
        try:
            values = resolve(values)
        except BadColumn as bad:
            errors = [(bad.column, bad.reason)]
    if errors or values is None:
        for field, reason in errors:
            report.add(FieldError(field, reason, row=record.row))
    else:
        staged.add((record.row, *values))


def _apply_snapshot(uow: UnitOfWork, *, batch_id: int, actor: str, batch_size: int) -> int:
    """Post one `snapshot` movement per balance that differs from the file; returns how many.

    The delta is taken from the locked balance, not the earlier read, so a change committed
    meanwhile by someone else is neither lost nor counted twice.
    """
    posted, after = 0, None
    while chunk := uow.imports.snapshot_chunk(after=after, limit=batch_size):
        last = chunk[-1]
        after = (last.item_id, last.location_id, last.rank)
        for row in chunk:
            if (row.current or 0) == row.on_hand:
                continue
            key = BalanceKey(row.item_id, row.location_id, Condition(row.condition))
            delta = row.on_hand - uow.stock.lock_balance(key).on_hand
            if delta == 0:
                continue
            post_movement(
                uow,
                Movement(
                    item_id=row.item_id,
                    location_id=row.location_id,
                    condition=key.condition,
                    movement_type=MovementType.SNAPSHOT,
                    quantity=delta,
                    reason="ERP stock snapshot",
                    reference=f"import:{batch_id}",
                    actor=actor,
                ),
            )
            posted += 1
    return posted


_APPLY: dict[str, Callable[..., int]] = {
    "items": lambda uow, **_: uow.imports.merge_items(),
    "locations": lambda uow, **_: uow.imports.merge_locations(),
    "purchase-orders": lambda uow, **_: uow.imports.merge_purchase_orders(),
    "sales": lambda uow, *, batch_id, **_: uow.imports.insert_sales(batch_id),
    "stock": _apply_snapshot,
    "returns": lambda uow, *, batch_id, **_: uow.imports.insert_returns(batch_id),
}

# Merges that leave out every row a check would refuse, tried before the checks
# (services/import_checks.py apply_checked): (uow, batch_id, rows) -> rows added, or None.
_ATTEMPT: dict[str, Callable[[UnitOfWork, int, int], int | None]] = {
    "sales": lambda uow, batch_id, _: uow.imports.insert_sales(batch_id),
    "returns": lambda uow, batch_id, rows: uow.imports.insert_returns_if_clean(batch_id, rows),
}
