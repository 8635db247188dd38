"""Items (a style-colour SKU in one size) and the locations that hold them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class LocationType(enum.StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"


class Channel(enum.StrEnum):
    ONLINE = "online"
    STORE = "store"


@dataclass
class Item:
    sku: str
    size: str
    category: str = "uncategorised"
    description: str = ""
    gtin: str | None = None
    unit_cost: Decimal = Decimal("0")
    price: Decimal = Decimal("0")
    supplier: str | None = None
    lead_time_days: int = 14
    case_pack: int = 1
    min_order_qty: int = 1
    launched_on: date | None = None
    factory: str | None = None
    season: str | None = None
    fabric: str | None = None
    image_url: str | None = None
    id: int | None = None
    updated_at: datetime | None = None


@dataclass
class Location:
    code: str
    name: str
    type: LocationType = LocationType.WAREHOUSE
    allow_negative: bool = False
    id: int | None = None
