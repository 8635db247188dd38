"""What the bench pages read: unit labels, the grading queue, and a grader's last grade."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from ...domain.grading import WriteOffStatus
from ..returns_tables import return_lines, return_units, returns, unit_gradings, write_offs
from ..tables import items, locations
from .base import Repository

_LABELLED = (
    select(return_units.c.unit_code, return_units.c.received_at, return_units.c.blind,
           items.c.sku, items.c.size, items.c.description, returns.c.rma,
           locations.c.code.label("location"))
    .join(items, items.c.id == return_units.c.item_id)
    .join(locations, locations.c.id == return_units.c.location_id)
    .outerjoin(returns, returns.c.id == return_units.c.return_id)
)

_QUEUED = (
    select(return_units.c.unit_code, return_units.c.status, return_units.c.received_at,
           return_units.c.blind, return_units.c.flagged_for_review, return_units.c.note,
           items.c.sku, items.c.size, items.c.description, locations.c.code.label("location"),
           return_lines.c.reason, returns.c.rma)
    .join(items, items.c.id == return_units.c.item_id)
    .join(locations, locations.c.id == return_units.c.location_id)
    .outerjoin(return_lines, return_lines.c.id == return_units.c.return_line_id)
    .outerjoin(returns, returns.c.id == return_units.c.return_id)
)


class BenchRepository(Repository):
    def labels_of_units(self, unit_codes: list[str]) -> list[dict]:
        rows = self.connection.execute(
            _LABELLED.where(return_units.c.unit_code.in_(unit_codes))
            .order_by(return_units.c.id))
        return [dict(r._mapping) for r in rows]

    def labels_of_return(self, rma: str) -> list[dict]:
        rows = self.connection.execute(
            _LABELLED.where(returns.c.rma == rma).order_by(return_units.c.id))
        return [dict(r._mapping) for r in rows]

    def queued(self, *, status: str | None = None, flagged: bool | None = None,
               location: str | None = None, reason: str | None = None,
               limit: int = 200) -> list[dict]:
        """Units oldest received first, by status or review flag, location and reason."""
        query = _QUEUED
        if status:
            query = query.where(return_units.c.status == status)
        if flagged is not None:
            query = query.where(return_units.c.flagged_for_review.is_(flagged))
        if location:
            query = query.where(locations.c.code == location)
        if reason:
            query = query.where(return_lines.c.reason == reason)
        rows = self.connection.execute(
            query.order_by(return_units.c.received_at, return_units.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    def count_by_status(self) -> dict[str, int]:
        rows = self.connection.execute(
            select(return_units.c.status, func.count()).group_by(return_units.c.status))
        return {status: count for status, count in rows}

    def flagged_count(self) -> int:
        return self.connection.execute(
            select(func.count()).select_from(return_units)
            .where(return_units.c.flagged_for_review.is_(True))).scalar_one()

    def queue_locations(self) -> list[str]:
        """Locations where units wait for grading (the queue's location filter)."""
        rows = self.connection.execute(
            select(locations.c.code).distinct()
            .join(return_units, return_units.c.location_id == locations.c.id)
            .where(return_units.c.status == "awaiting_grading").order_by(locations.c.code))
        return [r.code for r in rows]

    def last_grading_by(self, actor: str, *, since: datetime) -> dict | None:
        """The newest grading record this person made since `since`, with its unit's code and
        whether it is still the newest record of that unit."""
        row = self.connection.execute(
            select(unit_gradings, return_units.c.unit_code)
            .join(return_units, return_units.c.id == unit_gradings.c.unit_id)
            .where(unit_gradings.c.actor == actor, unit_gradings.c.created_at >= since)
            .order_by(unit_gradings.c.created_at.desc(), unit_gradings.c.id.desc()).limit(1)
        ).first()
        return dict(row._mapping) if row else None

    def last_grading_of(self, unit_id: int) -> dict | None:
        row = self.connection.execute(
            select(unit_gradings).where(unit_gradings.c.unit_id == unit_id)
            .order_by(unit_gradings.c.sequence.desc()).limit(1)).first()
        return dict(row._mapping) if row else None

    def item_by_gtin(self, gtin: str) -> dict | None:
        """The SKU and size a scanned GTIN (the barcode on the garment's tag) names."""
        row = self.connection.execute(
            select(items.c.id, items.c.sku, items.c.size).where(items.c.gtin == gtin)).first()
        return dict(row._mapping) if row else None

    def receiving_locations(self) -> list[str]:
        """Warehouses first: they receive parcels; stores may take returns over the counter."""
        rows = self.connection.execute(
            select(locations.c.code, locations.c.type)
            .order_by((locations.c.type != "warehouse"), locations.c.code))
        return [r.code for r in rows]

    def write_off_decided_by(self, unit_id: int) -> str | None:
        """Who posted the unit's newest posted write-off."""
        return self.connection.execute(
            select(write_offs.c.decided_by)
            .where(write_offs.c.unit_id == unit_id, write_offs.c.status == WriteOffStatus.POSTED)
            .order_by(write_offs.c.id.desc()).limit(1)).scalar()

    def image_of_unit(self, unit_code: str) -> str | None:
        """The item master's picture of the unit's item, as imported."""
        return self.connection.execute(
            select(items.c.image_url).join(return_units, return_units.c.item_id == items.c.id)
            .where(return_units.c.unit_code == unit_code)).scalar()
