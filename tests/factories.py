"""Small builders for test data, written through the repositories (no HTTP)."""

from __future__ import annotations

from decimal import Decimal


def add_location(uow_factory, code: str = "WH1", *, type: str = "warehouse",
                 allow_negative: bool = False) -> int:
    with uow_factory() as uow:
        uow.catalogue.upsert_locations(
            [{"code": code, "name": f"Location {code}", "type": type,
              "allow_negative": allow_negative}]
        )
        location_id = uow.catalogue.location_by_code(code).id
        uow.commit()
    return location_id


def add_item(uow_factory, sku: str = "TEE-BLK", size: str = "M", **fields) -> int:
    row = {
        "sku": sku, "size": size, "category": fields.pop("category", "tops"),
        "description": fields.pop("description", f"{sku} {size}"),
        "unit_cost": Decimal(str(fields.pop("unit_cost", "8.50"))),
        "price": Decimal(str(fields.pop("price", "25.00"))),
        "supplier": fields.pop("supplier", "ACME"),
        "lead_time_days": fields.pop("lead_time_days", 21),
        "case_pack": fields.pop("case_pack", 6),
        "min_order_qty": fields.pop("min_order_qty", 12),
        "gtin": fields.pop("gtin", None),
    }
    assert not fields, f"unknown item fields {fields}"
    with uow_factory() as uow:
        uow.catalogue.upsert_items([row])
        item_id = uow.catalogue.item_by_sku_size(sku, size).id
        uow.commit()
    return item_id
