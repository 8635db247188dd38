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
    for optional in ("launched_on", "factory", "season", "fabric", "image_url"):
        if optional in fields:
            row[optional] = fields.pop(optional)
    assert not fields, f"unknown item fields {fields}"
    with uow_factory() as uow:
        uow.catalogue.upsert_items([row])
        item_id = uow.catalogue.item_by_sku_size(sku, size).id
        uow.commit()
    return item_id


def add_sale(uow_factory, item_id: int, location_id: int, *, order_ref: str = "SO-1",
             line_ref: str = "1", quantity: int = 2, unit_price: str = "25.00",
             sold_on=None, channel: str = "online") -> None:
    from datetime import date, timedelta

    from returns_inventory.persistence.repositories import day_summary
    from returns_inventory.persistence.tables import sales_lines

    with uow_factory() as uow:  # counted in the day summary, as an import counts its lines
        line_id = uow.connection.execute(sales_lines.insert().values(
            order_ref=order_ref, line_ref=line_ref, item_id=item_id, location_id=location_id,
            quantity=quantity, unit_price=Decimal(unit_price), channel=channel,
            sold_on=sold_on or date.today() - timedelta(days=5),
        ).returning(sales_lines.c.id)).scalar_one()
        day_summary.count_sales(uow.connection, sales_lines.c.id == line_id)
        uow.commit()


def stock_up(uow_factory, sku: str, size: str, location: str, quantity: int) -> None:
    from returns_inventory.services.stock import adjust_stock

    adjust_stock(uow_factory, sku=sku, size=size, location=location, condition="sellable",
                 quantity=quantity, reason="test stock", actor="test")


def app_on(settings, database):
    """The real app, on a database the test chose (e.g. a committing one for threads)."""
    from returns_inventory import create_app

    app = create_app(settings)
    app.extensions["ri.database"].dispose()
    app.extensions["ri.database"] = database
    return app


def weekly_sock_sales(uow_factory, last_sale, *, weeks: int = 20, per_week: int = 4) -> int:
    """A one-size SKU selling steadily at WH1 every week up to `last_sale`: forecastable."""
    from datetime import timedelta

    location_id = add_location(uow_factory, "WH1")
    item_id = add_item(uow_factory, "SOCK-GRY", "ONE")
    for week in range(weeks):
        add_sale(uow_factory, item_id, location_id, order_ref=f"SO-{week}", quantity=per_week,
                 sold_on=last_sale - timedelta(weeks=week))
    return item_id


def image(format: str = "PNG", size: tuple[int, int] = (8, 8), *, noise: bool = False) -> bytes:
    """A real image file, made by Pillow (noise makes it as big as its pixels: PNG cannot
    compress it)."""
    import io
    import os

    from PIL import Image

    pixels = os.urandom(size[0] * size[1] * 3) if noise else bytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, format=format)
    return out.getvalue()


def item_id_of(uow_factory, sku: str, size: str | None = None) -> int:
    """The id of an item (the first size of the SKU when no size is given)."""
    from sqlalchemy import select

    from returns_inventory.persistence.tables import items

    query = select(items.c.id).where(items.c.sku == sku).order_by(items.c.size)
    if size is not None:
        query = query.where(items.c.size == size)
    with uow_factory() as uow:
        return uow.connection.execute(query).scalars().first()


def refund_policy(policies, timing: str):
    """The policies with every channel refunded `timing` ("on_receipt" or "on_inspection")."""
    from dataclasses import replace

    from returns_inventory.domain.inspection import RefundTiming

    channels = ("online", "store")
    return replace(policies, inspection=replace(
        policies.inspection, timing={c: RefundTiming(timing) for c in channels}))


def settle_refunds(app) -> int:
    """What the scheduler's settle-refunds job does within seconds of a grade: the judged
    lines' refunds and the customers' answers (services/settlement.py). Returns settled."""
    from returns_inventory.extensions import policies, uow_factory
    from returns_inventory.services.settlement import settle_all

    with app.app_context():
        return settle_all(uow_factory(), policies())
