"""ERP imports over HTTP and through the CLI: all or nothing, bad rows named, re-sends ignored."""

from __future__ import annotations

import gzip


def _sales_csv(shop, *lines: str) -> str:
    header = "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n"
    return header + "".join(line.format(**shop) + "\n" for line in lines)


def test_items_and_locations_imported_as_csv_are_listed(live_server, shop):
    items = live_server.get("/api/v1/items", params={"sku": shop["sku"]}).json()
    assert [(i["size"], i["category"], i["price"]) for i in items["data"]] == [
        ("L", "tops", "25.00"),
        ("M", "tops", "25.00"),
    ]
    locations = live_server.get("/api/v1/locations", params={"limit": 1000}).json()
    types = {loc["code"]: loc["type"] for loc in locations["data"]}
    assert types[shop["warehouse"]] == "warehouse"
    assert types[shop["store"]] == "store"


def test_a_bad_sales_file_answers_422_naming_each_bad_row_and_writes_nothing(
    live_server, shop, unique
):
    order = unique("SO")
    good_line = f"2026-03-01,{order},1,{{sku}},M,1,25.00,online,{{warehouse}}"
    bad = _sales_csv(
        shop,
        good_line,
        f"2026-03-01,{order},2,{{sku}},M,none,25.00,online,{{warehouse}}",
        f"2026-03-01,{order},3,{{sku}},M,1,25.00,by-post,{{store}}",
    )

    response = live_server.import_csv("sales", bad)

    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    named = {(e.get("row"), e["field"]) for e in response.json()["errors"]}
    assert (2, "quantity") in named
    assert (3, "channel") in named
    assert not any(row == 1 for row, _ in named)
    # Had the good first line been written, sending it alone would skip it, not apply it.
    alone = live_server.import_csv("sales", _sales_csv(shop, good_line))
    assert alone.status_code == 201, alone.text
    assert (alone.json()["applied"], alone.json()["skipped"]) == (1, 0)


def test_a_sales_file_sent_again_changes_nothing(live_server, shop, unique):
    order = unique("SO")
    first_lines = [
        f"2026-03-02,{order},1,{{sku}},M,2,25.00,online,{{warehouse}}",
        f"2026-03-02,{order},2,{{sku}},L,1,25.00,store,{{store}}",
    ]
    sales = _sales_csv(shop, *first_lines)

    first = live_server.import_csv("sales", sales)
    again = live_server.import_csv("sales", sales)

    assert first.status_code == 201, first.text
    assert first.json()["applied"] == 2
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert again.json()["batch_id"] == first.json()["batch_id"]
    # A new file that repeats the lines already imported applies only its new line.
    extended = _sales_csv(
        shop, *first_lines, f"2026-03-03,{order},3,{{sku}},M,1,25.00,online,{{warehouse}}"
    )
    third = live_server.import_csv("sales", extended)
    assert third.status_code == 201, third.text
    assert (third.json()["applied"], third.json()["skipped"]) == (1, 2)


def test_a_stock_snapshot_sets_balances_through_the_ledger_once(live_server, shop):
    snapshot = (
        "sku,size,location,on_hand\n"
        f"{shop['sku']},M,{shop['warehouse']},40\n"
        f"{shop['sku']},L,{shop['warehouse']},15\n"
    )

    first = live_server.import_csv("stock", snapshot)
    again = live_server.import_csv("stock", snapshot)

    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["duplicate"] is True
    balances = live_server.get("/api/v1/stock", params={"sku": shop["sku"]}).json()["data"]
    assert sorted((b["size"], b["on_hand"]) for b in balances) == [("L", 15), ("M", 40)]
    ledger = live_server.get("/api/v1/ledger", params={"sku": shop["sku"]}).json()["data"]
    assert sorted((m["movement_type"], m["quantity"]) for m in ledger) == [
        ("snapshot", 15),
        ("snapshot", 40),
    ]
    assert "ledger ok" in live_server.cli("verify-ledger").stdout


def test_the_cli_imports_a_gzipped_file_and_refuses_a_bad_one(live_server, shop, unique):
    order = unique("PO")
    good = live_server.folder / f"{order}.csv.gz"
    good.write_bytes(
        gzip.compress(
            "po_ref,line_ref,sku,size,location,quantity,expected_on\n"
            f"{order},1,{shop['sku']},M,{shop['warehouse']},24,2026-04-01\n".encode()
        )
    )
    bad = live_server.folder / f"{order}-bad.csv"
    bad.write_text(
        "po_ref,line_ref,sku,size,location,quantity,expected_on\n"
        f"{order},2,{shop['sku']},M,{shop['warehouse']},24,next week\n"
    )

    assert live_server.cli("import", "purchase-orders", str(good)).returncode == 0
    refused = live_server.cli("import", "purchase-orders", str(bad), check=False)

    assert refused.returncode == 2
    assert "expected_on" in refused.stderr
