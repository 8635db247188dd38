"""Import batches: one row per accepted file, so a re-sent file is recognised."""

from __future__ import annotations

from sqlalchemy import select

from ..tables import import_batches
from .base import Repository, utcnow


class ImportRepository(Repository):
    def batch_by_hash(self, kind: str, sha256: str) -> dict | None:
        row = self.connection.execute(
            select(import_batches).where(
                import_batches.c.kind == kind, import_batches.c.content_sha256 == sha256
            )
        ).first()
        return dict(row._mapping) if row else None

    def add_batch(
        self, *, kind: str, sha256: str, row_count: int, applied: int, skipped: int, actor: str
    ) -> int:
        return self.connection.execute(
            import_batches.insert()
            .values(
                kind=kind, content_sha256=sha256, row_count=row_count, applied_count=applied,
                skipped_count=skipped, actor=actor, created_at=utcnow(),
            )
            .returning(import_batches.c.id)
        ).scalar_one()
