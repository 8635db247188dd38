"""Import batches (one row per accepted file, so a re-sent file is recognised) and the
staging area where an import's rows are checked before they are merged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select

from ..tables import import_batches, items, locations, sales_lines
from . import import_merge as merge
from . import import_returns
from . import import_staging as staging
from .base import Repository, upsert, utcnow


@dataclass(frozen=True)
class ImportBatch:
    id: int
    kind: str
    content_sha256: str
    row_count: int
    applied_count: int
    skipped_count: int
    actor: str
    created_at: datetime


class ImportRepository(Repository):
    def batch_by_hash(self, kind: str, sha256: str) -> ImportBatch | None:
        row = self.connection.execute(
            select(import_batches).where(
                import_batches.c.kind == kind, import_batches.c.content_sha256 == sha256
            )
        ).first()
        if row is None:
            return None
        return ImportBatch(**{**row._mapping, "created_at": row.created_at})

    def claim_batch(self, *, kind: str, sha256: str, actor: str) -> int | None:
        """Record a new file, or None if this file was already imported.

        On PostgreSQL a second upload of the same file waits here until the first one
        commits (then gets None) or rolls back (then carries on as the importer).
        """
        return self.connection.execute(
            upsert(self.connection, import_batches)
            .values(
                kind=kind,
                content_sha256=sha256,
                row_count=0,
                applied_count=0,
                skipped_count=0,
                actor=actor,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["kind", "content_sha256"])
            .returning(import_batches.c.id)
        ).scalar_one_or_none()

    def first_batch_of_kind(self, kind: str) -> ImportBatch | None:
        """The earliest batch of a kind (the demo loaders record themselves as one)."""
        row = self.connection.execute(
            select(import_batches).where(import_batches.c.kind == kind)
            .order_by(import_batches.c.id).limit(1)
        ).first()
        if row is None:
            return None
        return ImportBatch(**{**row._mapping, "created_at": row.created_at})

    def holds_data(self) -> bool:
        """Whether any item, location or sale is stored yet."""
        return any(
            self.connection.scalar(select(exists().select_from(t)))
            for t in (items, locations, sales_lines)
        )

    def finish_batch(self, batch_id: int, *, rows: int, applied: int, skipped: int) -> None:
        self.connection.execute(
            import_batches.update()
            .where(import_batches.c.id == batch_id)
            .values(row_count=rows, applied_count=applied, skipped_count=skipped)
        )

    # Staging: rows go in, checks and merges read them back, all in this transaction.

    def stage(self, kind: str, *, batch_size: int) -> staging.StagingLoader:
        """`with uow.imports.stage(kind, batch_size=n) as loader: loader.add((row_no, ...))`"""
        return staging.StagingLoader(self.connection, staging.STAGED[kind], batch_size)

    def drop_staged(self, kind: str) -> None:
        staging.drop(self.connection, staging.STAGED[kind])

    def duplicate_rows(self, kind: str, key: Sequence[str], limit: int):
        """[(row_no, first_row)] for rows repeating an earlier row's key, and the total."""
        return staging.duplicate_rows(self.connection, staging.STAGED[kind], key, limit)

    def unknown_items(self, kind: str, limit: int):
        """[(row_no, sku, size)] naming no item, and the total."""
        return merge.unknown_items(self.connection, staging.STAGED[kind], limit)

    def unknown_locations(self, kind: str, limit: int):
        """[(row_no, location)] naming no location, and the total."""
        return merge.unknown_locations(self.connection, staging.STAGED[kind], limit)

    def gtins_taken(self, limit: int):
        """[(row_no, gtin, sku, size)] whose barcode belongs to another item, and the total."""
        return merge.gtins_taken(self.connection, staging.STAGED["items"], limit)

    def snapshot_below_reserved(self, limit: int):
        """[(row_no, on_hand, reserved)] a snapshot may not set, and the total."""
        return merge.snapshot_below_reserved(self.connection, staging.STAGED["stock"], limit)

    def snapshot_chunk(self, *, after: tuple | None, limit: int) -> list:
        return merge.snapshot_chunk(self.connection, staging.STAGED["stock"], after, limit)

    def merge_items(self) -> int:
        return merge.merge_items(self.connection, staging.STAGED["items"])

    def merge_locations(self) -> int:
        return merge.merge_locations(self.connection, staging.STAGED["locations"])

    def merge_purchase_orders(self) -> int:
        return merge.merge_purchase_orders(self.connection, staging.STAGED["purchase-orders"])

    def insert_sales(self, batch_id: int) -> int:
        return merge.insert_sales(self.connection, staging.STAGED["sales"], batch_id)

    # Historical returns: [(row_no, ...)] found by each check, and the total.

    def returns_check(self, check: str, limit: int):
        """One of unknown_sales, unknown_items, other_item_than_sold, returned_before_sold,
        more_than_sold (persistence/repositories/import_returns.py)."""
        return getattr(import_returns, check)(self.connection, staging.STAGED["returns"], limit)

    def insert_returns(self, batch_id: int) -> int:
        return import_returns.insert_returns(self.connection, staging.STAGED["returns"], batch_id)

    def insert_returns_if_clean(self, batch_id: int, rows: int) -> int | None:
        """Insert the staged returns if every row passes every check (each one is added);
        otherwise None, with nothing inserted."""
        try:
            with self.connection.begin_nested():  # released, or rolled back by _LeftOut
                added = import_returns.insert_returns(
                    self.connection, staging.STAGED["returns"], batch_id, strict=True)
                if added != rows:
                    raise _LeftOut
        except _LeftOut:
            return None
        return added


class _LeftOut(Exception):
    """The strict insert left rows out: take it back."""
