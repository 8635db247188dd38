"""Whether demo data may be loaded here: once, and only into an empty database."""

from __future__ import annotations

from ..persistence.uow import UowFactory

DEMO_MARKER_KIND = "demo"  # an import_batches row of this kind says a demo was loaded


def demo_marker(uow_factory: UowFactory):
    """The import batch recording an earlier demo load in this database, or None."""
    with uow_factory() as uow:
        return uow.imports.first_batch_of_kind(DEMO_MARKER_KIND)


def holds_data(uow_factory: UowFactory) -> bool:
    """Whether any item, location or sale is already stored (the demo needs an empty one)."""
    with uow_factory() as uow:
        return uow.imports.holds_data()


def mark_demo_loaded(uow_factory: UowFactory, *, fingerprint: str, actor: str, rows: int) -> None:
    """Record the load, so a second one (another process, a restart) leaves it alone."""
    with uow_factory() as uow:
        batch_id = uow.imports.claim_batch(kind=DEMO_MARKER_KIND, sha256=fingerprint, actor=actor)
        if batch_id is not None:
            uow.imports.finish_batch(batch_id, rows=rows, applied=rows, skipped=0)
        uow.commit()
