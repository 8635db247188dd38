"""Fixtures several integration suites share (the databases and apps are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from returns_inventory.services.policies import Policies
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location, add_sale
from tests.integration.suggestion_data import build_board
from tests.integration.webhook_support import Receiver


@pytest.fixture
def catalogue(uow_factory):
    """One item and one location (a suite that needs more defines its own)."""
    add_item(uow_factory)
    add_location(uow_factory)


@pytest.fixture
def board(uow_factory):
    """A forecast run's suggestions to review (tests/integration/suggestion_data.py)."""
    return build_board(uow_factory)


@pytest.fixture
def receiver():
    """An ERP stand-in listening on loopback, closed after the test."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def policies():
    """The policies config/ ships (a suite that needs others defines its own)."""
    return Policies.from_settings(Settings.load(env={}))


@pytest.fixture
def sold(uow_factory):
    """A 2-unit online sale of TEE-BLK size M at 25.00, and the sizes S and L, at WH1; a
    store ST1 to receive at."""
    item_id = add_item(uow_factory, "TEE-BLK", "M")
    add_item(uow_factory, "TEE-BLK", "S")
    add_item(uow_factory, "TEE-BLK", "L")
    location_id = add_location(uow_factory, "WH1")
    add_location(uow_factory, "ST1", type="store")
    add_sale(uow_factory, item_id, location_id, order_ref="SO-1", line_ref="1", quantity=2)
    return item_id
