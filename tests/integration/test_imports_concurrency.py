"""Two uploads of one file at the same moment apply it once (real commits, real threads)."""

from __future__ import annotations

import hashlib
import io
import threading
from functools import partial

from sqlalchemy import func, select

from returns_inventory.persistence.tables import import_batches, sales_lines
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.imports import import_rows
from tests.factories import add_item, add_location

HEADER = "sold_on,order_ref,line_ref,sku,size,quantity,unit_price,channel,location\n"


def test_the_same_file_sent_twice_at_once_is_applied_once(committing_db):
    uow_factory = partial(UnitOfWork, committing_db)
    add_location(uow_factory, "WH1")
    add_item(uow_factory, "TEE-BLK", "M")
    data = (
        HEADER + "".join(f"2026-11-20,SO-{i},1,TEE-BLK,M,1,9.90,online,WH1\n" for i in range(5000))
    ).encode()
    sha256 = hashlib.sha256(data).hexdigest()
    start = threading.Barrier(2)
    results, failures = [], []

    def upload():
        start.wait()
        try:
            results.append(
                import_rows(
                    uow_factory,
                    "sales",
                    io.BytesIO(data),
                    fmt="csv",
                    sha256=sha256,
                    actor="token:erp",
                )
            )
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sorted(r.duplicate for r in results) == [False, True]
    assert len({r.batch_id for r in results}) == 1
    with committing_db.engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(sales_lines)) == 5000
        assert connection.scalar(select(func.count()).select_from(import_batches)) == 1
