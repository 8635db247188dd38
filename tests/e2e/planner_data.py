"""A small shop for the planner console in the browser, set up only through the API.

Three SKUs in five sizes with 60 weeks of sales (as the ERP would import them), a thin stock,
and recent returns: the tee's small sizes come back as too small, so the returns page has a
fit flag to show. Then a forecast run started and followed over HTTP, as a planner's tool would.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

SIZES = ("XS", "S", "M", "L", "XL")
# sku -> (description, weekly units by size)
RANGE = {
    "TEE": ("Organic tee navy", (3, 6, 11, 8, 4)),
    "JEAN": ("Slim jeans indigo", (2, 4, 7, 6, 3)),
    "HOOD": ("Loopback hoodie grey", (2, 3, 6, 5, 2)),
}
WEEKS = 60
CSV = {"Content-Type": "text/csv"}


@dataclass
class Shop:
    category: str
    warehouse: str
    skus: dict[str, str]  # "TEE" -> "TEE-3F2A9C"
    run_id: int
    as_of: date


def _weekly_units(mean: int, week: int) -> int:
    # A steady, slightly wavy demand; deterministic so the run is the same every time.
    return max(1, mean + (week % 3) - 1 + (2 if week % 13 == 0 else 0))


def _import(server, kind: str, text: str) -> None:
    response = server.post(f"/api/v1/imports/{kind}", data=text.encode(),
                           headers=server.headers(**CSV))
    assert response.status_code == 201, response.text


def _sales(shop: Shop, as_of: date) -> tuple[str, dict]:
    lines = ["sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location"]
    sold = {}
    for key, (_, means) in RANGE.items():
        sku = shop.skus[key]
        for week in range(1, WEEKS + 1):
            order = f"{sku}-W{week}"
            for size, mean in zip(SIZES, means, strict=True):
                units = _weekly_units(mean, week)
                sold[(order, size)] = units
                lines.append(f"{as_of - timedelta(weeks=week)},{order},{size},{sku},{size},"
                             f"{units},25.00,online,{shop.warehouse}")
    return "\n".join(lines) + "\n", sold


def _returns(server, shop: Shop, sold: dict) -> None:
    """The last four weeks' orders (inside the 30-day window) come back: most of the tee
    (XS and S as too small), a unit here and there of the rest; graded A, B, A, C in turn."""
    reasons = {"XS": "too_small", "S": "too_small", "M": "changed_mind", "L": "changed_mind",
               "XL": "too_large"}
    for key in RANGE:
        for week in (1, 2, 3, 4):
            order = f"{shop.skus[key]}-W{week}"
            lines = []
            for size in SIZES:
                units = sold[(order, size)]
                # The tee is bought to try on: most of it comes back, XS and S as too small.
                back = units - 1 if key == "TEE" else (1 if (week + SIZES.index(size)) % 2 else 0)
                if back:
                    lines.append({"line_ref": size, "quantity": back, "reason": reasons[size]})
            rma = server.post("/api/v1/returns", json={"order_ref": order, "lines": lines})
            assert rma.status_code == 201, rma.text
            received = server.post(
                f"/api/v1/returns/{rma.json()['rma']}/receipts",
                json={"location": shop.warehouse,
                      "lines": [{"line_no": n, "quantity": line["quantity"]}
                                for n, line in enumerate(lines, start=1)]})
            assert received.status_code == 201, received.text
            for n, unit in enumerate(received.json()["units"]):
                graded = server.post(f"/api/v1/units/{unit['unit_id']}/grade",
                                     json={"grade": "ABAC"[n % 4]})
                assert graded.status_code == 200, graded.text


def build_shop(server, unique) -> Shop:
    """Import the shop, return some of it, and run the forecast; returns when it succeeded."""
    tag = unique("x").split("-")[1].lower()
    # Today's plan: a run may not be dated after today (returns received today count from
    # tomorrow's week on; the sales weeks before today are complete).
    shop = Shop(category=f"tops-{tag}", warehouse=unique("WH"),
                skus={key: unique(key) for key in RANGE}, run_id=0, as_of=date.today())
    _import(server, "locations",
            f"code,name,type\n{shop.warehouse},Central warehouse,warehouse\n")
    items = ["sku,size,category,description,unit_cost,price,lead_time_days,case_pack,"
             "min_order_qty,supplier"]
    stock = ["sku,size,location,on_hand"]
    for key, (description, _) in RANGE.items():
        for size in SIZES:
            items.append(f"{shop.skus[key]},{size},{shop.category},{description},9.40,25.00,"
                         f"14,4,0,NORDTEX")
            stock.append(f"{shop.skus[key]},{size},{shop.warehouse},2")
    _import(server, "items", "\n".join(items) + "\n")
    _import(server, "stock", "\n".join(stock) + "\n")
    sales, sold = _sales(shop, shop.as_of)
    _import(server, "sales", sales)
    _returns(server, shop, sold)
    shop.run_id = run_forecast(server, shop.as_of)
    return shop


def run_forecast(server, as_of: date) -> int:
    """POST /api/v1/forecast-runs and poll its Location until the scheduler has run it."""
    started = server.post("/api/v1/forecast-runs", json={"as_of": as_of.isoformat()})
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 300
    run = started.json()
    while run["status"] in ("requested", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        run = server.get(urlsplit(started.headers["Location"]).path).json()
    assert run["status"] == "succeeded", run
    return run["id"]
