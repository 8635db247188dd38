"""A supervisor reviews a blind receipt: the unit leaves the review list, the ERP hears it.

Units received without an RMA (or beyond what the return expected) are flagged so someone
finds out whose they are before they are forgotten in quarantine. Reviewing keeps every other
fact of the unit as it is: it may have been graded already, and stays where it was put.
"""

from __future__ import annotations

from ..domain.errors import Conflict, NotFound
from ..domain.text import MAX_NOTE_CHARS, check_note
from ..persistence.uow import UowFactory


class NotFlagged(Conflict):
    """The unit is not waiting for review (never flagged, or reviewed already)."""


def mark_reviewed(uow_factory: UowFactory, *, unit_id: str, actor: str,
                  note: str | None = None) -> dict:
    """Clear the unit's review flag; ``note`` (what was found) is added to the unit's note."""
    check_note(note, "note")
    with uow_factory() as uow:
        unit = uow.units.unit(unit_id, lock=True)
        if unit is None:
            raise NotFound(f"no unit {unit_id}")
        if not unit.flagged_for_review:
            raise NotFlagged(f"unit {unit_id} is not waiting for review", unit=unit_id)
        found = f"reviewed by {actor}" + (f": {note}" if note else "")
        kept = "; ".join(filter(None, [uow.units.unit_note(unit.id), found]))
        uow.units.clear_review_flag(unit.id, kept[:MAX_NOTE_CHARS])
        item = uow.catalogue.item(unit.item_id)
        uow.events.add("unit.reviewed", {
            "unit_id": unit_id, "sku": item.sku if item else None,
            "size": item.size if item else None, "status": unit.status.value,
            "note": note}, actor=actor)
        uow.commit()
    return {"unit_id": unit_id, "flagged_for_review": False, "note": kept[:MAX_NOTE_CHARS]}
