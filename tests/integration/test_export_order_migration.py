"""Revision 0025 fills the export's order and cases on approved rows already there with what
an approval writes today, so an export reads the same after the upgrade."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sqlalchemy import select, text, update

from returns_inventory import persistence
from returns_inventory.persistence.planning_tables import replenishment_suggestions as rs
from returns_inventory.services.suggestion_decisions import decide_suggestion
from tests.integration.suggestion_data import build_board

PLACE = (rs.c.id, rs.c.export_supplier, rs.c.export_location, rs.c.export_sku,
         rs.c.export_size, rs.c.export_cases)


def _revision_0025():
    [path] = (Path(persistence.__file__).parent / "migrations").glob("versions/*_0025_*.py")
    spec = importlib.util.spec_from_file_location("revision_0025", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_upgrade_fills_approved_rows_as_an_approval_writes_them(uow_factory, db):
    board = build_board(uow_factory)
    for key, quantity in (("TEE-BLK/M", None), ("TEE-BLK/S", 7), ("SOCK-WHT/OS", None)):
        decide_suggestion(uow_factory, board.ids[key], action="approve", actor="user:ann",
                          quantity=quantity)
    decide_suggestion(uow_factory, board.ids["JEAN-IND/32"], action="reject", actor="ann")
    written = db.connection.execute(select(*PLACE).order_by(rs.c.id)).all()
    assert [r.export_sku for r in written if r.export_sku] == ["TEE-BLK", "TEE-BLK",
                                                              "SOCK-WHT"]
    # As before the revision: the columns empty, then its fill.
    db.connection.execute(update(rs).values(export_supplier=None, export_location=None,
                                            export_sku=None, export_size=None,
                                            export_cases=None))
    revision = _revision_0025()
    postgres = db.connection.dialect.name == "postgresql"
    db.connection.execute(text(revision.FILL_POSTGRES if postgres else revision.FILL_SQLITE))
    assert db.connection.execute(select(*PLACE).order_by(rs.c.id)).all() == written


def test_an_approval_that_names_no_supplier_or_case_pack_takes_the_items(uow_factory, db):
    """As the export falls back to the item's supplier and case pack, so does the place an
    approval written without them (an older caller's) takes in the export."""
    board = build_board(uow_factory)
    medium = board.ids["TEE-BLK/M"]
    with uow_factory() as uow:
        assert uow.suggestions.decide(medium, seen_version=1, status="approved",
                                      approved_qty=30, actor="user:ann", comment=None)
        uow.commit()
    [row] = db.connection.execute(select(*PLACE).where(rs.c.id == medium)).all()
    assert row[1:] == ("ACME", "WH1", "TEE-BLK", "M", 5)  # 30 in packs of 6
