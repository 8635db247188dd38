"""The import service on a real database: all or nothing, and nothing applied twice."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import func, select

from returns_inventory.domain.errors import NotFound, ValidationFailed
from returns_inventory.domain.stock import BalanceKey, Condition
from returns_inventory.persistence.tables import (
    import_batches,
    items,
    ledger_movements,
    outbox_events,
    purchase_order_lines,
    sales_lines,
    stock_balances,
)
from returns_inventory.services.imports import import_rows
from returns_inventory.services.ledger import balance_order
from returns_inventory.services.stock import adjust_stock, verify_ledger
from tests.factories import add_item, add_location

SALES_HEADER = "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n"


def run_import(uow_factory, kind: str, content: str | bytes, fmt: str = "csv", **options):
    data = content.encode() if isinstance(content, str) else content
    return import_rows(
        uow_factory,
        kind,
        io.BytesIO(data),
        fmt=fmt,
        sha256=hashlib.sha256(data).hexdigest(),
        actor="token:erp",
        **options,
    )


def refusal(uow_factory, kind, content, fmt="csv") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        run_import(uow_factory, kind, content, fmt)
    return caught.value


def count(db, table) -> int:
    return db.connection.scalar(select(func.count()).select_from(table))


def sale(
    order: str,
    line: int | str,
    sku="TEE-BLK",
    size="M",
    quantity=1,
    location="WH1",
    price="19.90",
    channel="online",
    sold_on="2026-11-20",
) -> str:
    return f"{sold_on},{order},{line},{sku},{size},{quantity},{price},{channel},{location}\n"


@pytest.fixture
def catalogue(uow_factory):
    add_location(uow_factory, "WH1")
    add_location(uow_factory, "ST1", type="store")
    add_item(uow_factory, "TEE-BLK", "M")
    add_item(uow_factory, "TEE-BLK", "L")


def test_sales_lines_are_stored_as_history_and_do_not_move_stock(uow_factory, db, catalogue):
    result = run_import(uow_factory, "sales", SALES_HEADER + sale("SO-1", 1) + sale("SO-1", 2))
    assert (result.rows, result.applied, result.skipped, result.duplicate) == (2, 2, 0, False)
    assert count(db, sales_lines) == 2
    assert count(db, ledger_movements) == 0
    stored = db.connection.execute(select(sales_lines).order_by(sales_lines.c.line_ref)).all()
    assert {r.batch_id for r in stored} == {result.batch_id}
    assert str(stored[0].unit_price) == "19.90" and stored[0].channel == "online"
    with uow_factory() as uow:
        [event] = uow.events.after(0, 10, "import.applied")
    assert event.payload["batch_id"] == result.batch_id and event.actor == "token:erp"


def test_a_bad_file_writes_nothing_and_names_every_bad_row_and_column(uow_factory, db, catalogue):
    content = (
        SALES_HEADER
        + sale("SO-1", 1)
        + sale("SO-1", 2, sku="NOPE")
        + sale("SO-1", 3, location="XX9")
        + sale("SO-1", 4, quantity="two", channel="fax")
        + sale("SO-1", 1)
        + "2026-11-20,SO-1,6\n"
    )
    error = refusal(uow_factory, "sales", content)
    found = [(e.row, e.field, e.reason) for e in error.errors]
    assert found == [
        (2, "sku", "no item NOPE in size M"),
        (3, "location", "no location XX9"),
        (4, "channel", "must be one of online, store"),
        (4, "quantity", "must be a whole number, not 'two'"),
        (5, "order_ref+line_ref", "repeats row 1: order_ref+line_ref must be unique in a file"),
        (6, "row", "has 3 fields; the header has 9"),
    ]
    assert error.extra["error_count"] == 6
    assert count(db, sales_lines) == count(db, import_batches) == count(db, outbox_events) == 0


def test_a_file_whose_rows_all_parse_is_still_refused_for_its_references_and_repeats(
    uow_factory, db, catalogue
):
    """Every value is well formed, so the lines are inserted before they are checked: the
    problems must still be named and the insert rolled back with the rest."""
    run_import(uow_factory, "sales", SALES_HEADER + sale("SO-0", 1))
    content = (
        SALES_HEADER
        + sale("SO-0", 1)  # imported before: skipped, not a problem
        + sale("SO-1", 1)
        + sale("SO-1", 2, sku="NOPE")
        + sale("SO-1", 3, location="XX9")
        + sale("SO-1", 1)
    )
    error = refusal(uow_factory, "sales", content)
    assert [(e.row, e.field) for e in error.errors] == [
        (3, "sku"), (4, "location"), (5, "order_ref+line_ref")]
    assert count(db, sales_lines) == 1 and count(db, import_batches) == 1


def test_references_holding_tabs_backslashes_quotes_and_line_breaks_are_stored_as_sent(
    uow_factory, db, catalogue
):
    """Clean batches travel to the staging table as COPY text on PostgreSQL, where these
    characters mean something."""
    refs = ["A\\N", 'B\t"1"', "C\nD", "\\N"]
    content = SALES_HEADER + "".join(
        sale('"' + ref.replace('"', '""') + '"', n, price="7.5", quantity=" 02 ")
        for n, ref in enumerate(refs, 1))
    assert run_import(uow_factory, "sales", content).applied == 4
    stored = db.connection.execute(
        select(sales_lines.c.order_ref, sales_lines.c.quantity, sales_lines.c.unit_price)
        .order_by(sales_lines.c.line_ref)).all()
    assert [tuple(r) for r in stored] == [(ref, 2, Decimal("7.50")) for ref in refs]


def test_a_file_of_new_and_re_sent_lines_adds_the_new_ones(uow_factory, db, catalogue):
    run_import(uow_factory, "sales", SALES_HEADER + sale("SO-0", 1))
    result = run_import(uow_factory, "sales", SALES_HEADER + sale("SO-0", 1) + sale("SO-2", 1))
    assert (result.rows, result.applied, result.skipped) == (2, 1, 1)
    assert count(db, sales_lines) == 2


def test_a_misfit_csv_header_is_refused_before_any_row_is_read(uow_factory, db, catalogue):
    error = refusal(uow_factory, "sales", SALES_HEADER.replace("quantity", "qty") + sale("A", 1))
    assert {(e.field, e.row) for e in error.errors} == {("qty", None), ("quantity", None)}
    assert count(db, import_batches) == 0


def test_the_error_list_is_capped_but_the_detail_counts_them_all(uow_factory, catalogue):
    content = SALES_HEADER + "".join(sale("SO-9", i, quantity=0) for i in range(1, 1501))
    error = refusal(uow_factory, "sales", content)
    assert len(error.errors) == 1000 and error.extra["error_count"] == 1500
    assert "1500 problem(s)" in error.detail and "first 1000" in error.detail
    assert [e.row for e in error.errors[:3]] == [1, 2, 3]


def test_a_re_sent_file_changes_nothing_and_answers_as_a_duplicate(uow_factory, db, catalogue):
    content = SALES_HEADER + sale("SO-1", 1) + sale("SO-1", 2)
    first = run_import(uow_factory, "sales", content)
    again = run_import(uow_factory, "sales", content)
    assert again.duplicate and not first.duplicate
    assert (again.batch_id, again.rows, again.applied, again.skipped) == (first.batch_id, 2, 2, 0)
    assert count(db, sales_lines) == 2 and count(db, import_batches) == 1
    with uow_factory() as uow:
        assert uow.events.count("import.applied") == 1


def test_re_sent_sales_lines_in_a_new_file_are_skipped_and_counted(uow_factory, db, catalogue):
    run_import(uow_factory, "sales", SALES_HEADER + sale("SO-1", 1) + sale("SO-1", 2))
    # The ERP's next export overlaps the last one and even corrects a quantity: history wins.
    result = run_import(
        uow_factory, "sales", SALES_HEADER + sale("SO-1", 2, quantity=5) + sale("SO-2", 1)
    )
    assert (result.rows, result.applied, result.skipped) == (2, 1, 1)
    quantities = db.connection.execute(
        select(sales_lines.c.order_ref, sales_lines.c.line_ref, sales_lines.c.quantity).order_by(
            sales_lines.c.order_ref, sales_lines.c.line_ref
        )
    ).all()
    assert [tuple(q) for q in quantities] == [("SO-1", "1", 1), ("SO-1", "2", 1), ("SO-2", "1", 1)]


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_csv_json_and_gzip_import_the_same_lines(uow_factory, db, catalogue, fmt, compress):
    lines = [
        {
            "sold_on": "2026-11-20",
            "order_ref": "SO-7",
            "line_ref": 1,
            "sku": "TEE-BLK",
            "size": "L",
            "quantity": 3,
            "unit_price": 9.5,
            "channel": "store",
            "location": "ST1",
        },
        {
            "sold_on": "2026-11-21",
            "order_ref": "SO-7",
            "line_ref": 2,
            "sku": "TEE-BLK",
            "size": "M",
            "quantity": 1,
            "unit_price": "12.00",
            "channel": "online",
            "location": "WH1",
        },
    ]
    if fmt == "json":
        data = json.dumps(lines).encode()
    else:
        data = (
            SALES_HEADER + "".join(",".join(str(v) for v in line.values()) + "\n" for line in lines)
        ).encode()
    result = run_import(uow_factory, "sales", gzip.compress(data) if compress else data, fmt)
    assert (result.rows, result.applied) == (2, 2)
    stored = db.connection.execute(
        select(sales_lines.c.quantity, sales_lines.c.unit_price, sales_lines.c.sold_on).order_by(
            sales_lines.c.line_ref
        )
    ).all()
    assert [(q, str(p), d.isoformat()) for q, p, d in stored] == [
        (3, "9.50", "2026-11-20"),
        (1, "12.00", "2026-11-21"),
    ]


def test_items_are_upserted_and_an_unchanged_item_is_not_touched(uow_factory, db):
    header = "sku,size,gtin,category,price,lead_time_days\n"
    first = run_import(
        uow_factory, "items", header + "TEE,M,4006381333931,tops,10.00,21\nTEE,L,,tops,10.00,21\n"
    )
    stamp = db.connection.scalar(select(items.c.updated_at).where(items.c.size == "L"))
    result = run_import(
        uow_factory,
        "items",
        header + "TEE,M,4006381333931,tops,12.50,21\nTEE,L,,tops,10,21\nTEE,S,,tops,10,21\n",
    )
    assert (first.applied, result.rows, result.applied, result.skipped) == (2, 3, 2, 1)
    prices = dict(db.connection.execute(select(items.c.size, items.c.price)).all())
    assert {k: str(v) for k, v in prices.items()} == {"M": "12.50", "L": "10.00", "S": "10.00"}
    assert db.connection.scalar(select(items.c.updated_at).where(items.c.size == "L")) == stamp


def test_a_barcode_may_not_be_repeated_or_taken_from_another_item(uow_factory, db):
    add_item(uow_factory, "JEANS", "32", gtin="96385074")
    error = refusal(
        uow_factory,
        "items",
        "sku,size,gtin\nTEE,M,4006381333931\nTEE,L,4006381333931\nTEE,S,96385074\n",
    )
    assert [(e.row, e.field, e.reason) for e in error.errors] == [
        (2, "gtin", "repeats the gtin of row 1"),
        (3, "gtin", "96385074 already belongs to JEANS size 32"),
    ]
    assert count(db, items) == 1


def test_locations_are_upserted_by_code(uow_factory, db):
    run_import(uow_factory, "locations", "code,name,type\nWH1,Main,warehouse\n")
    result = run_import(
        uow_factory,
        "locations",
        "code,name,type,allow_negative\nWH1,Main,warehouse,false\nST1,High Street,store,yes\n",
    )
    assert (result.applied, result.skipped) == (1, 1)
    with uow_factory() as uow:
        shops = {
            loc.code: (loc.type.value, loc.allow_negative) for loc in uow.catalogue.list_locations()
        }
    assert shops == {"WH1": ("warehouse", False), "ST1": ("store", True)}


def test_purchase_order_lines_are_upserted_by_po_and_line(uow_factory, db, catalogue):
    header = "po_ref,line_ref,sku,size,location,quantity,expected_on\n"
    run_import(
        uow_factory,
        "purchase-orders",
        header + "PO-1,1,TEE-BLK,M,WH1,120,2026-12-01\nPO-1,2,TEE-BLK,L,WH1,60,2026-12-01\n",
    )
    moved = run_import(
        uow_factory,
        "purchase-orders",
        header + "PO-1,1,TEE-BLK,M,WH1,120,2026-12-01\n" + "PO-1,2,TEE-BLK,L,WH1,60,2026-12-15\n",
    )
    assert (moved.applied, moved.skipped) == (1, 1)
    lines = db.connection.execute(
        select(
            purchase_order_lines.c.line_ref,
            purchase_order_lines.c.expected_on,
            purchase_order_lines.c.status,
        ).order_by(purchase_order_lines.c.line_ref)
    ).all()
    assert [(ln, d.isoformat(), s) for ln, d, s in lines] == [
        ("1", "2026-12-01", "open"),
        ("2", "2026-12-15", "open"),
    ]


STOCK_HEADER = "sku,size,location,condition,on_hand\n"


def test_a_snapshot_sets_balances_through_snapshot_movements(uow_factory, db, catalogue):
    adjust_stock(
        uow_factory,
        sku="TEE-BLK",
        size="M",
        location="WH1",
        condition="sellable",
        quantity=10,
        reason="count",
        actor="tester",
    )
    adjust_stock(
        uow_factory,
        sku="TEE-BLK",
        size="L",
        location="ST1",
        condition="sellable",
        quantity=4,
        reason="count",
        actor="tester",
    )
    result = run_import(
        uow_factory,
        "stock",
        STOCK_HEADER + "TEE-BLK,M,WH1,sellable,7\nTEE-BLK,M,WH1,quarantine,2\nTEE-BLK,L,WH1,,0\n",
    )
    assert (result.rows, result.applied, result.skipped) == (3, 2, 1)
    with uow_factory() as uow:
        balances, _ = uow.stock.list_balances(offset=0, limit=10)
        snapshot = uow.stock.list_movements(after=None, limit=10, movement_type="snapshot")
    figures = {(b.size, b.location, b.condition): b.on_hand for b in balances}
    # ST1 was not named in the snapshot, so it keeps its 4 units.
    assert figures == {
        ("M", "WH1", "sellable"): 7,
        ("M", "WH1", "quarantine"): 2,
        ("L", "ST1", "sellable"): 4,
    }
    assert sorted(m.quantity for m in snapshot) == [-3, 2]
    assert {(m.reference, m.actor) for m in snapshot} == {
        (f"import:{result.batch_id}", "token:erp")
    }
    assert verify_ledger(uow_factory) == []


def test_a_snapshot_posts_in_the_ledgers_lock_order_whatever_the_files_order(
    uow_factory, db, catalogue
):
    # Grading locks a unit's balances in balance_order; an import holding some of the same
    # balances must take them in that order too, or the two deadlock on PostgreSQL.
    rows = [
        ("L", "ST1", "sellable"), ("L", "WH1", "second_quality"), ("L", "WH1", "quarantine"),
        ("M", "ST1", "sellable"), ("M", "WH1", "sellable"), ("M", "WH1", "quarantine"),
    ]
    content = "".join(f"TEE-BLK,{size},{loc},{cond},5\n" for size, loc, cond in rows)
    result = run_import(uow_factory, "stock", STOCK_HEADER + content, batch_size=2)
    assert result.applied == len(rows)
    with uow_factory() as uow:
        posted = uow.stock.list_movements(after=None, limit=10, movement_type="snapshot")
        keys = {
            (m.size, m.location, m.condition): BalanceKey(
                uow.catalogue.item_by_sku_size(m.sku, m.size).id, uow.catalogue.location_by_code(
                    m.location).id, Condition(m.condition))
            for m in posted
        }
    in_posting_order = [keys[(m.size, m.location, m.condition)] for m in posted]
    assert in_posting_order == sorted(in_posting_order, key=balance_order)


def test_a_re_sent_snapshot_posts_nothing_for_balances_already_at_that_figure(
    uow_factory, db, catalogue
):
    run_import(uow_factory, "stock", STOCK_HEADER + "TEE-BLK,M,WH1,sellable,7\n")
    movements = count(db, ledger_movements)
    # The same figures in another file (JSON this time): no file duplicate, still no movement.
    again = run_import(
        uow_factory,
        "stock",
        json.dumps([{"sku": "TEE-BLK", "size": "M", "location": "WH1", "on_hand": 7}]),
        "json",
    )
    assert (again.duplicate, again.applied, again.skipped) == (False, 0, 1)
    assert count(db, ledger_movements) == movements == 1
    assert verify_ledger(uow_factory) == []


def test_a_snapshot_may_not_set_on_hand_below_what_is_reserved(uow_factory, db, catalogue):
    adjust_stock(
        uow_factory,
        sku="TEE-BLK",
        size="M",
        location="WH1",
        condition="sellable",
        quantity=10,
        reason="count",
        actor="tester",
    )
    # Reserve 6 of them, balance and ledger alike, as a reservation would.
    db.connection.execute(ledger_movements.update().values(reserved_delta=6, reserved_after=6))
    db.connection.execute(stock_balances.update().values(reserved=6))
    error = refusal(
        uow_factory,
        "stock",
        STOCK_HEADER + "TEE-BLK,M,WH1,sellable,5\n"
        "TEE-BLK,L,WH1,sellable,-1\nTEE-BLK,M,ST1,sellable,3\n",
    )
    assert [(e.row, e.field, e.reason) for e in error.errors] == [
        (1, "on_hand", "5 is below the 6 units reserved there"),
        (2, "on_hand", "this location does not allow negative stock"),
    ]
    assert count(db, ledger_movements) == 1


def test_an_empty_file_of_a_kind_is_a_batch_of_nothing(uow_factory, db):
    result = run_import(uow_factory, "sales", "[]", "json")
    assert (result.rows, result.applied, result.skipped) == (0, 0, 0)


def test_an_unknown_kind_is_refused(uow_factory):
    with pytest.raises(NotFound):
        run_import(uow_factory, "customers", "[]", "json")


def test_a_large_sales_file_crosses_many_batches_and_lands_whole(uow_factory, db, catalogue):
    rows = 20_000
    content = SALES_HEADER + "".join(
        sale(f"SO-{i // 3}", i % 3, size="ML"[i % 2], location=("WH1", "ST1")[i % 2])
        for i in range(rows)
    )
    result = run_import(uow_factory, "sales", gzip.compress(content.encode()), batch_size=777)
    assert (result.rows, result.applied) == (rows, rows)
    assert count(db, sales_lines) == rows


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_file_that_breaks_off_half_way_writes_nothing(uow_factory, db, catalogue, fmt):
    # The first rows are already in the staging table (a COPY stream on PostgreSQL) when
    # the break is found; all of it must go.
    if fmt == "csv":
        whole = (SALES_HEADER + "".join(sale("SO-3", i) for i in range(1, 3001))).encode()
    else:
        whole = json.dumps(
            [
                {
                    "sold_on": "2026-11-20",
                    "order_ref": "SO-3",
                    "line_ref": i,
                    "sku": "TEE-BLK",
                    "size": "M",
                    "quantity": 1,
                    "unit_price": "1.00",
                    "channel": "online",
                    "location": "WH1",
                }
                for i in range(1, 3001)
            ]
        ).encode()
    error = refusal(uow_factory, "sales", gzip.compress(whole)[:-400], fmt)
    assert error.errors[0].field == "file" and "gzip" in error.errors[0].reason
    assert count(db, sales_lines) == count(db, import_batches) == 0
    # The same connection goes on working: the next file imports.
    assert run_import(uow_factory, "sales", SALES_HEADER + sale("SO-4", 1)).applied == 1


def test_an_items_launch_date_is_imported_and_reaches_the_nightly_runs_panel(uow_factory, db):
    from datetime import date

    from returns_inventory.domain.weeks import week_of
    from returns_inventory.services.planning_inputs import ForecastConfig, load_inputs

    header = "sku,size,category,launched_on\n"
    run_import(uow_factory, "items", header + "NEW,M,tops,2026-12-14\nOLD,M,tops,\n")
    stored = dict(db.connection.execute(select(items.c.sku, items.c.launched_on)).all())
    assert stored == {"NEW": date(2026, 12, 14), "OLD": None}
    bad = refusal(uow_factory, "items", header + "BAD,M,tops,14/12/2026\n")
    assert [e.field for e in bad.errors] == ["launched_on"]
    with uow_factory() as uow:
        inputs = load_inputs(uow, ForecastConfig(), date(2026, 11, 23))
    launched = dict(zip(inputs.sales.ids.tolist(), inputs.items.launched_week.tolist(),
                        strict=True))
    assert launched["NEW|M"] == week_of(date(2026, 12, 14))
    assert np.isnan(launched["OLD|M"])
