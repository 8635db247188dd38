"""Items and locations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select

from ...domain.catalogue import Item, Location, LocationType
from ..tables import items, locations
from .base import Repository, upsert, utcnow


def _item(row) -> Item:
    return Item(
        id=row.id,
        sku=row.sku,
        size=row.size,
        gtin=row.gtin,
        category=row.category,
        description=row.description,
        unit_cost=row.unit_cost,
        price=row.price,
        supplier=row.supplier,
        lead_time_days=row.lead_time_days,
        case_pack=row.case_pack,
        min_order_qty=row.min_order_qty,
        launched_on=row.launched_on,
        factory=row.factory,
        season=row.season,
        fabric=row.fabric,
        image_url=row.image_url,
        updated_at=row.updated_at,
    )


def _location(row) -> Location:
    return Location(
        id=row.id,
        code=row.code,
        name=row.name,
        type=LocationType(row.type),
        allow_negative=row.allow_negative,
    )


_LOCATION = select(locations).where(locations.c.id == bindparam("location_id"))


class CatalogueRepository(Repository):
    def __init__(self, connection):
        super().__init__(connection)
        # The ledger asks for a movement's location on every movement; one transaction
        # reads each location once.
        self._locations: dict[int, Location | None] = {}

    def item(self, item_id: int) -> Item | None:
        row = self.connection.execute(select(items).where(items.c.id == item_id)).first()
        return _item(row) if row else None

    def item_by_sku_size(self, sku: str, size: str) -> Item | None:
        row = self.connection.execute(
            select(items).where(items.c.sku == sku, items.c.size == size)
        ).first()
        return _item(row) if row else None

    def spelling(self, field: str, typed: str) -> str:
        """How the catalogue spells a SKU, category or supplier typed in another case: the
        typed words where they match exactly, else the first spelling equal but for case,
        else the typed words (which then match nothing)."""
        column = {"sku": items.c.sku, "category": items.c.category,
                  "supplier": items.c.supplier}[field]
        if self.connection.execute(select(column).where(column == typed).limit(1)).first():
            return typed
        found = self.connection.execute(
            select(column).where(func.lower(column) == typed.lower()).order_by(column).limit(1)
        ).scalar()
        return found if found is not None else typed

    def all_item_keys(self) -> dict[tuple[str, str], int]:
        rows = self.connection.execute(select(items.c.id, items.c.sku, items.c.size))
        return {(r.sku, r.size): r.id for r in rows}

    def list_items(
        self, *, sku: str | None = None, size: str | None = None, category: str | None = None,
        gtin: str | None = None, offset: int, limit: int,
    ) -> tuple[list[Item], int]:
        query = select(items)
        for column, wanted in ((items.c.sku, sku), (items.c.size, size),
                               (items.c.category, category), (items.c.gtin, gtin)):
            if wanted:
                query = query.where(column == wanted)
        total = self.connection.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.connection.execute(
            query.order_by(items.c.sku, items.c.size).offset(offset).limit(limit)
        )
        return [_item(r) for r in rows], total or 0

    def upsert_items(self, rows: Sequence[dict]) -> None:
        """Insert new items and update changed ones, keyed by (sku, size)."""
        if not rows:
            return
        now = utcnow()
        stmt = upsert(self.connection, items)
        columns = [c for c in rows[0] if c not in {"sku", "size"}] + ["updated_at"]
        stmt = stmt.on_conflict_do_update(
            index_elements=["sku", "size"],
            set_={c: getattr(stmt.excluded, c) for c in columns},
        )
        self.connection.execute(stmt, [{**r, "updated_at": now} for r in rows])

    def location(self, location_id: int) -> Location | None:
        if location_id not in self._locations:
            row = self.connection.execute(_LOCATION, {"location_id": location_id}).first()
            self._locations[location_id] = _location(row) if row else None
        return self._locations[location_id]

    def location_by_code(self, code: str) -> Location | None:
        row = self.connection.execute(select(locations).where(locations.c.code == code)).first()
        return _location(row) if row else None

    def list_locations(self) -> list[Location]:
        rows = self.connection.execute(select(locations).order_by(locations.c.code))
        return [_location(r) for r in rows]

    def page_locations(
        self, *, type: str | None = None, offset: int, limit: int
    ) -> tuple[list[Location], int]:
        query = select(locations)
        if type:
            query = query.where(locations.c.type == type)
        total = self.connection.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.connection.execute(query.order_by(locations.c.code).offset(offset).limit(limit))
        return [_location(r) for r in rows], total or 0

    def upsert_locations(self, rows: Sequence[dict]) -> None:
        self._locations.clear()
        if not rows:
            return
        stmt = upsert(self.connection, locations)
        stmt = stmt.on_conflict_do_update(
            index_elements=["code"],
            set_={c: getattr(stmt.excluded, c) for c in rows[0] if c != "code"},
        )
        self.connection.execute(stmt, list(rows))
