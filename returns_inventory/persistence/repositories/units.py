"""Returned units: what they are, their grading records, photos and write-offs."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Integer, Label, Select, bindparam, exists, func, select

from ...domain.grading import (
    WRITE_OFFS,
    Disposition,
    Grade,
    ReturnUnit,
    UnitStatus,
    WriteOffStatus,
)
from ...domain.stock import Condition
from ..batch import WriteBatch
from ..returns_tables import (
    return_lines,
    return_units,
    returns,
    unit_gradings,
    unit_photos,
    write_offs,
)
from ..tables import api_tokens, items, locations, sales_lines
from ..together import RawSelect
from . import day_summary
from .base import Repository, utcnow


def _unit(row) -> ReturnUnit:
    return ReturnUnit(
        id=row.id,
        unit_code=row.unit_code,
        item_id=row.item_id,
        location_id=row.location_id,
        status=UnitStatus(row.status),
        condition=Condition(row.condition) if row.condition else None,
        return_id=row.return_id,
        return_line_id=row.return_line_id,
        grade=Grade(row.grade) if row.grade else None,
        disposition=Disposition(row.disposition) if row.disposition else None,
        defects=list(row.defects or []),
        blind=row.blind,
        flagged_for_review=row.flagged_for_review,
    )

def _token_revoked(among) -> Label:
    """Whether any of the API tokens a grade was made with has been revoked: asked in the
    statement that locks the unit, so a token this process remembers (services/tokens.py) is
    confirmed in the grade's own round trip."""
    return exists().where(among, api_tokens.c.revoked_at.is_not(None)).label("token_revoked")


_TOKEN_REVOKED = _token_revoked(api_tokens.c.id.in_(bindparam("token_ids", expanding=True)))
# A single grade confirms at most one token: on PostgreSQL, compiled once for psycopg's
# RawCursor (together.RawSelect), it is one integer or NULL (no token: nothing revoked). An
# array parameter cost psycopg ~14 µs a grade to dump, an integer ~0.3.
_TOKEN_REVOKED_PG = _token_revoked(api_tokens.c.id == bindparam("token_id", type_=Integer))
_SIBLING = return_lines.alias("sibling")  # the other lines of the unit's return
# What judging the unit's inspection outcome needs of its return line (the keys of
# RefundRepository.line_context), read with the unit's lock rather than in a round trip of
# its own; prefixed here, handed back as `details["line"]`.
_LINE = {
    "line_id": return_lines.c.id, "line_no": return_lines.c.line_no,
    "quantity": return_lines.c.quantity, "received_quantity": return_lines.c.received_quantity,
    "reason": return_lines.c.reason, "resolution": return_lines.c.resolution,
    "declared_condition": return_lines.c.declared_condition,
    "condition_met": return_lines.c.condition_met, "line_ref": sales_lines.c.line_ref,
    "unit_price": sales_lines.c.unit_price, "channel": sales_lines.c.channel,
    "sku": items.c.sku, "size": items.c.size, "return_id": returns.c.id, "rma": returns.c.rma,
    "order_ref": returns.c.order_ref, "return_status": returns.c.status,
    "shipping_paid_by": returns.c.shipping_paid_by, "refund_timing": returns.c.refund_timing,
    "refund_method": returns.c.refund_method,
    "refund_within_days": returns.c.refund_within_days, "address_ref": returns.c.address_ref,
    "return_received": select(func.sum(_SIBLING.c.received_quantity))
    .where(_SIBLING.c.return_id == returns.c.id).scalar_subquery(),
}
def _grading_view(token_revoked: Label) -> Select:
    """What grading a unit reads with its lock."""
    return (
        select(
            return_units,
            items.c.sku,
            items.c.size,
            items.c.supplier,
            # What a write-off is valued at, read here rather than in a round trip of its own.
            items.c.unit_cost,
            locations.c.code.label("location"),
            sales_lines.c.sold_on,
            token_revoked,
            *(column.label(f"line__{key}") for key, column in _LINE.items()),
        )
        .join(items, items.c.id == return_units.c.item_id)
        .join(locations, locations.c.id == return_units.c.location_id)
        .outerjoin(return_lines, return_lines.c.id == return_units.c.return_line_id)
        .outerjoin(returns, returns.c.id == return_lines.c.return_id)
        .outerjoin(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
    )


# Grading runs these for every unit: built once, so their compiled form is reused.
_GRADING_VIEW = _grading_view(_TOKEN_REVOKED)


def _to_grade(row) -> tuple[ReturnUnit, dict]:
    return _found(dict(row._mapping))


def _found(details: dict) -> tuple[ReturnUnit, dict]:
    unit = _unit(SimpleNamespace(**details))
    line = {key: details.pop(f"line__{key}") for key in _LINE}
    details["line"] = line if details["return_line_id"] is not None else None
    return unit, details


_UNIT_TO_GRADE = _GRADING_VIEW.where(
    return_units.c.unit_code == bindparam("unit_code")
).with_for_update(of=return_units)
# What every grade reads first, on PostgreSQL through psycopg's RawCursor: SQLAlchemy's
# execution context and result set up for its 50 columns cost a grade more CPU than the read.
_UNIT_TO_GRADE_PG = _grading_view(_TOKEN_REVOKED_PG).where(
    return_units.c.unit_code == bindparam("unit_code")
).with_for_update(of=return_units)
_RAW_UNIT_TO_GRADE: list[RawSelect] = []  # compiled on first use
# A batch of grades locks its units in id order, so two batches never wait on each other
# in a cycle.
_UNITS_TO_GRADE = (
    _GRADING_VIEW.where(return_units.c.unit_code.in_(bindparam("unit_codes", expanding=True)))
    .order_by(return_units.c.id)
    .with_for_update(of=return_units)
)
# Saved on every grade: built once. A missing grader keeps the stored one. The unit's note is
# the receiving dock's and is never overwritten; a grader's note goes in the grading history.
_SAVE_UNIT = (
    return_units.update()
    .where(return_units.c.id == bindparam("unit_id"))
    .values(
        status=bindparam("status"),
        condition=bindparam("condition"),
        grade=bindparam("grade"),
        disposition=bindparam("disposition"),
        defects=bindparam("defects", type_=return_units.c.defects.type),
        flagged_for_review=bindparam("flagged_for_review"),
        graded_at=func.coalesce(
            bindparam("graded_at", type_=return_units.c.graded_at.type),
            return_units.c.graded_at,
        ),
        graded_by=func.coalesce(
            bindparam("graded_by", type_=return_units.c.graded_by.type),
            return_units.c.graded_by,
        ),
    )
)
# The caller holds the unit's lock, so the next sequence number is ours; one round trip.
_ADD_GRADINGS = unit_gradings.insert().values(
    unit_id=bindparam("graded_unit"),
    sequence=select(func.coalesce(func.max(unit_gradings.c.sequence), 0) + 1)
    .where(unit_gradings.c.unit_id == bindparam("graded_unit"))
    .scalar_subquery(),
)

# The grading station reads a unit on every scan: statements built once, not per request
# (building and cache-keying this join cost more CPU than PostgreSQL spends answering it).
_UNIT_DETAILS = (
    select(
        return_units,
        items.c.sku,
        items.c.size,
        items.c.description,
        items.c.unit_cost,
        items.c.supplier,
        locations.c.code.label("location"),
        return_lines.c.reason,
        return_lines.c.note.label("customer_note"),
        returns.c.customer_note.label("return_note"),
        return_lines.c.resolution,
        returns.c.rma,
        sales_lines.c.sold_on,
        sales_lines.c.unit_price,
    )
    .join(items, items.c.id == return_units.c.item_id)
    .join(locations, locations.c.id == return_units.c.location_id)
    .outerjoin(return_lines, return_lines.c.id == return_units.c.return_line_id)
    .outerjoin(returns, returns.c.id == return_units.c.return_id)
    .outerjoin(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
    .where(return_units.c.unit_code == bindparam("unit_code"))
)
_GRADINGS_OF = (
    select(unit_gradings)
    .where(unit_gradings.c.unit_id == bindparam("unit_id"))
    .order_by(unit_gradings.c.sequence)
)
# A grade of D writes one off: built once, not per call.
_ADD_WRITE_OFF = write_offs.insert().returning(write_offs.c.id)
_PHOTOS_OF = (
    select(unit_photos)
    .where(unit_photos.c.unit_id == bindparam("unit_id"))
    .order_by(unit_photos.c.id)
)


class UnitRepository(Repository):
    def add_unit(self, **values: Any) -> int:
        values.setdefault("received_at", utcnow())
        return self.connection.execute(
            return_units.insert()
            .values(**values)
            .returning(return_units.c.id)
        ).scalar_one()

    def count_received(self, unit_codes: Sequence[str]) -> None:
        """Count units received against a return's lines in the units back per day of sale:
        once for all the units a transaction received, the summary's rows in key order (two
        parcels listing the same items in opposite orders do not deadlock on them)."""
        if unit_codes:
            day_summary.count_received(self.connection,
                                       return_units.c.unit_code.in_(unit_codes))

    def unit(self, unit_code: str, *, lock: bool = False) -> ReturnUnit | None:
        query = select(return_units).where(return_units.c.unit_code == unit_code)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _unit(row) if row else None

    def clear_review_flag(self, unit_id: int, note: str | None) -> None:
        """The unit has been reviewed: off the review list, its note replaced by ``note``."""
        self.connection.execute(
            return_units.update().where(return_units.c.id == unit_id)
            .values(flagged_for_review=False, note=note))

    def unit_note(self, unit_id: int) -> str | None:
        return self.connection.scalar(
            select(return_units.c.note).where(return_units.c.id == unit_id))

    def unit_by_id(self, unit_id: int, *, lock: bool = False) -> ReturnUnit | None:
        query = select(return_units).where(return_units.c.id == unit_id)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return _unit(row) if row else None

    def units_for_review(self, *, status: str | None, flagged: bool | None, limit: int,
                         after: int | None) -> list[dict]:
        """Units by status or review flag, oldest first, with what a person reads."""
        query = (
            select(return_units.c.id, return_units.c.unit_code, return_units.c.status,
                   return_units.c.grade, return_units.c.blind,
                   return_units.c.flagged_for_review, return_units.c.received_at,
                   return_units.c.received_by, return_units.c.note, items.c.sku, items.c.size,
                   locations.c.code.label("location"), returns.c.rma)
            .join(items, items.c.id == return_units.c.item_id)
            .join(locations, locations.c.id == return_units.c.location_id)
            .outerjoin(returns, returns.c.id == return_units.c.return_id)
        )
        if status:
            query = query.where(return_units.c.status == status)
        if flagged is not None:
            query = query.where(return_units.c.flagged_for_review.is_(flagged))
        if after:
            query = query.where(return_units.c.id > after)
        rows = self.connection.execute(query.order_by(return_units.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    def write_offs_by_status(self, status: str, *, limit: int, after: int | None) -> list[dict]:
        """Write-offs in one state (e.g. waiting for an admin), oldest first."""
        query = (
            select(write_offs, return_units.c.unit_code, items.c.sku, items.c.size,
                   locations.c.code.label("location"))
            .join(return_units, return_units.c.id == write_offs.c.unit_id)
            .join(items, items.c.id == write_offs.c.item_id)
            .join(locations, locations.c.id == write_offs.c.location_id)
            .where(write_offs.c.status == status)
        )
        if after:
            query = query.where(write_offs.c.id > after)
        rows = self.connection.execute(query.order_by(write_offs.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    def units_of(self, return_id: int) -> list[ReturnUnit]:
        rows = self.connection.execute(
            select(return_units)
            .where(return_units.c.return_id == return_id)
            .order_by(return_units.c.id)
        )
        return [_unit(r) for r in rows]

    def save_unit(self, unit: ReturnUnit, *, actor: str | None = None,
                  batch: WriteBatch | None = None) -> None:
        """Store the unit's state (now, or when the batch ends); with an actor, who graded it
        and when."""
        row = {
            "unit_id": unit.id,
            "status": unit.status.value,
            "condition": unit.condition.value if unit.condition else None,
            "grade": unit.grade.value if unit.grade else None,
            "disposition": unit.disposition.value if unit.disposition else None,
            "defects": list(unit.defects),
            "flagged_for_review": unit.flagged_for_review,
            "graded_at": utcnow() if actor else None,
            "graded_by": actor or None,
        }
        self._write(_SAVE_UNIT, row, batch)

    def unit_to_grade(self, unit_code: str, token_id: int | None = None
                      ) -> tuple[ReturnUnit, dict] | None:
        """The unit, locked, with its item, location and sale, and as `line` what judging its
        outcome needs of its return line (None for a blind receipt), in one round trip; its
        `token_revoked` says whether the API token `token_id` has been revoked."""
        if self.is_postgres:
            if not _RAW_UNIT_TO_GRADE:
                _RAW_UNIT_TO_GRADE.append(RawSelect.of(_UNIT_TO_GRADE_PG, self.connection.dialect))
            rows = _RAW_UNIT_TO_GRADE[0].rows(self.connection, {"unit_code": unit_code,
                                                                "token_id": token_id})
            return _found(rows[0]) if rows else None
        params = {"unit_code": unit_code, "token_ids": [] if token_id is None else [token_id]}
        row = self.connection.execute(_UNIT_TO_GRADE, params).first()
        return _to_grade(row) if row else None

    def units_to_grade(self, unit_codes: list[str], token_ids: Sequence[int] = ()
                       ) -> dict[str, tuple[ReturnUnit, dict]]:
        """Several units, locked in id order, each with what grading it needs (and
        `token_revoked`, as unit_to_grade); by unit code."""
        rows = self.connection.execute(_UNITS_TO_GRADE, {"unit_codes": unit_codes,
                                                         "token_ids": list(token_ids)})
        return {r.unit_code: _to_grade(r) for r in rows}

    def unit_details(self, unit_code: str) -> dict | None:
        """What the grading bench shows: item, size, customer reason and note."""
        row = self.connection.execute(_UNIT_DETAILS, {"unit_code": unit_code}).first()
        return dict(row._mapping) if row else None

    def add_grading(self, unit_id: int, *, batch: WriteBatch | None = None, **values: Any
                    ) -> None:
        """Keep the grade in the unit's history (now, or when the batch ends)."""
        row = {"note": None, "reason": None, **values, "graded_unit": unit_id,
               "created_at": utcnow()}
        self._write(_ADD_GRADINGS, row, batch)

    def gradings_of(self, unit_id: int) -> list[dict]:
        rows = self.connection.execute(_GRADINGS_OF, {"unit_id": unit_id})
        return [dict(r._mapping) for r in rows]

    def add_photo(self, unit_id: int, **values: Any) -> int:
        return self.connection.execute(
            unit_photos.insert()
            .values(unit_id=unit_id, created_at=utcnow(), **values)
            .returning(unit_photos.c.id)
        ).scalar_one()

    def photos_of(self, unit_id: int) -> list[dict]:
        rows = self.connection.execute(_PHOTOS_OF, {"unit_id": unit_id})
        return [dict(r._mapping) for r in rows]

    def photo_count(self, unit_id: int) -> int:
        return self.connection.execute(
            select(func.count()).select_from(unit_photos).where(unit_photos.c.unit_id == unit_id)
        ).scalar_one()

    def photo(self, filename: str) -> dict | None:
        row = self.connection.execute(
            select(unit_photos).where(unit_photos.c.filename == filename)
        ).first()
        return dict(row._mapping) if row else None

    # --- write-offs -------------------------------------------------------------------
    def add_write_off(self, *, status: WriteOffStatus, **values: Any) -> int:
        WRITE_OFFS.check(None, status)
        return self.connection.execute(
            _ADD_WRITE_OFF, {"created_at": utcnow(), "status": status, **values}).scalar_one()

    def write_off(self, write_off_id: int, *, lock: bool = False) -> dict | None:
        query = select(write_offs).where(write_offs.c.id == write_off_id)
        if lock:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        return dict(row._mapping) if row else None

    def pending_write_off_of(self, unit_id: int) -> dict | None:
        row = self.connection.execute(
            select(write_offs).where(
                write_offs.c.unit_id == unit_id,
                write_offs.c.status == WriteOffStatus.PENDING_APPROVAL,
            )
        ).first()
        return dict(row._mapping) if row else None

    def decide_write_off(self, write_off_id: int, status: WriteOffStatus, actor: str, *,
                         was: str) -> None:
        """Move a locked write-off from ``was`` to ``status``, if its lifecycle allows that."""
        WRITE_OFFS.check(was, status, name=str(write_off_id))
        values: dict[str, Any] = dict(status=status, decided_by=actor)
        if status == WriteOffStatus.POSTED:
            values["posted_at"] = utcnow()
        self.connection.execute(
            write_offs.update().where(write_offs.c.id == write_off_id).values(**values)
        )

    def reverse_write_offs_of(self, unit_id: int, actor: str) -> list[dict]:
        """A re-graded unit is no longer a loss: its posted write-offs stop counting.

        The id and value of each one reversed, so the caller can tell the ERP.
        """
        rows = self.connection.execute(
            write_offs.update()
            .where(write_offs.c.unit_id == unit_id,
                   write_offs.c.status.in_(WRITE_OFFS.before(WriteOffStatus.REVERSED)))
            .values(status=WriteOffStatus.REVERSED, decided_by=actor)
            .returning(write_offs.c.id, write_offs.c.value)
        )
        return sorted((dict(r._mapping) for r in rows), key=lambda r: r["id"])
