"""Vendor claims and the units in them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ...domain.errors import Conflict
from ...domain.grading import UnitStatus
from ..claims_tables import vendor_claim_units, vendor_claims
from ..returns_tables import return_lines, return_units
from ..tables import items, sales_lines
from .base import Repository

_VENDOR_UNITS = (
    select(return_units.c.id.label("unit_id"), return_units.c.unit_code, items.c.sku,
           items.c.size, items.c.supplier, items.c.unit_cost, sales_lines.c.sold_on,
           return_units.c.grade, return_units.c.defects)
    .join(items, items.c.id == return_units.c.item_id)
    .outerjoin(return_lines, return_lines.c.id == return_units.c.return_line_id)
    .outerjoin(sales_lines, sales_lines.c.id == return_lines.c.sales_line_id)
    .where(return_units.c.status == UnitStatus.RETURNED_TO_VENDOR.value)
)
_IN_A_CLAIM = exists().where(vendor_claim_units.c.unit_id == return_units.c.id)


class ClaimRepository(Repository):
    def unclaimed_units(self, supplier: str | None = None) -> list[dict[str, Any]]:
        """Units with their supplier that no claim holds yet, locked in id order: units before
        claims, as a re-grade locks its unit and then the claim it leaves."""
        query = _VENDOR_UNITS.where(~_IN_A_CLAIM, items.c.supplier.is_not(None))
        if supplier is not None:
            query = query.where(items.c.supplier == supplier)
        return self._rows(query.order_by(return_units.c.id).with_for_update(of=return_units))

    def claim_of_unit(self, unit_id: int) -> dict | None:
        """The claim holding a unit (locked), with the unit's value in it; None if none."""
        row = self.connection.execute(
            select(vendor_claims.c.id, vendor_claims.c.status, vendor_claims.c.supplier,
                   vendor_claim_units.c.value.label("unit_value"))
            .join(vendor_claim_units, vendor_claim_units.c.claim_id == vendor_claims.c.id)
            .where(vendor_claim_units.c.unit_id == unit_id)
            .with_for_update(of=vendor_claims)).first()
        return dict(row._mapping) if row else None

    def remove_unit(self, claim_id: int, unit_id: int, value: Decimal, *, now: datetime) -> None:
        self.connection.execute(delete(vendor_claim_units).where(
            vendor_claim_units.c.claim_id == claim_id, vendor_claim_units.c.unit_id == unit_id))
        self.connection.execute(
            update(vendor_claims).where(vendor_claims.c.id == claim_id)
            .values(value=vendor_claims.c.value - value, updated_at=now))

    def units_not_sent(self) -> list[dict[str, Any]]:
        """Units not yet sent to their supplier: outside any claim, or in a draft one."""
        in_draft = (
            select(vendor_claim_units.c.unit_id, vendor_claims.c.id.label("claim_id"))
            .join(vendor_claims, vendor_claims.c.id == vendor_claim_units.c.claim_id)
            .subquery()
        )
        query = (
            _VENDOR_UNITS.add_columns(in_draft.c.claim_id, vendor_claims.c.status)
            .outerjoin(in_draft, in_draft.c.unit_id == return_units.c.id)
            .outerjoin(vendor_claims, vendor_claims.c.id == in_draft.c.claim_id)
            .where((vendor_claims.c.status.is_(None)) | (vendor_claims.c.status == "draft"))
        )
        return self._rows(query.order_by(sales_lines.c.sold_on, return_units.c.id))

    def draft_for(self, supplier: str) -> dict | None:
        query = (select(vendor_claims)
                 .where(vendor_claims.c.supplier == supplier, vendor_claims.c.status == "draft")
                 .order_by(vendor_claims.c.id).limit(1).with_for_update())
        row = self.connection.execute(query).first()
        return dict(row._mapping) if row else None

    def create(self, *, supplier: str, actor: str, now: datetime) -> int:
        return self.connection.execute(
            insert(vendor_claims).values(supplier=supplier, status="draft", value=0,
                                         created_by=actor, created_at=now, updated_at=now)
            .returning(vendor_claims.c.id)
        ).scalar_one()

    def add_units(self, claim_id: int, units: list[dict], *, now: datetime) -> None:
        """Put units in a claim and add their value to its total. A unit another claim took
        in the meantime is a conflict, never a second bill."""
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(vendor_claim_units),
                                        [{**u, "claim_id": claim_id} for u in units])
        except IntegrityError:
            raise Conflict("some of these units were claimed by another request at the same "
                           "time; gather again") from None
        total = sum((u["value"] for u in units), Decimal("0"))
        self.connection.execute(
            update(vendor_claims).where(vendor_claims.c.id == claim_id)
            .values(value=vendor_claims.c.value + total, updated_at=now))

    def get(self, claim_id: int, *, lock: bool = False) -> dict | None:
        query = self._summary().where(vendor_claims.c.id == claim_id)
        if lock:
            query = query.with_for_update(of=vendor_claims)
        row = self.connection.execute(query).first()
        return dict(row._mapping) if row else None

    def set_status(self, claim_id: int, **values) -> None:
        self.connection.execute(
            update(vendor_claims).where(vendor_claims.c.id == claim_id).values(**values))

    def find(self, *, status: str | None = None, supplier: str | None = None) -> list[dict]:
        query = self._summary().order_by(vendor_claims.c.id.desc())
        if status is not None:
            query = query.where(vendor_claims.c.status == status)
        if supplier is not None:
            query = query.where(vendor_claims.c.supplier == supplier)
        return self._rows(query)

    def units_of(self, claim_id: int) -> list[dict]:
        query = (
            select(return_units.c.unit_code, items.c.sku, items.c.size,
                   vendor_claim_units.c.value, vendor_claim_units.c.sold_on,
                   vendor_claim_units.c.window_ends_on, return_units.c.grade,
                   return_units.c.defects)
            .join(return_units, return_units.c.id == vendor_claim_units.c.unit_id)
            .join(items, items.c.id == return_units.c.item_id)
            .where(vendor_claim_units.c.claim_id == claim_id)
            .order_by(items.c.sku, items.c.size, return_units.c.unit_code)
        )
        return self._rows(query)

    def _summary(self):
        units = (select(func.count()).where(vendor_claim_units.c.claim_id == vendor_claims.c.id)
                 .scalar_subquery())
        return select(vendor_claims, units.label("units"))

    def _rows(self, query) -> list[dict]:
        return [dict(row._mapping) for row in self.connection.execute(query)]
