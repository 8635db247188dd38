"""Fixtures several integration suites share (the databases and apps are in tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.factories import add_item, add_location
from tests.integration.webhook_support import Receiver


@pytest.fixture
def catalogue(uow_factory):
    """One item and one location (a suite that needs more defines its own)."""
    add_item(uow_factory)
    add_location(uow_factory)


@pytest.fixture
def receiver():
    """An ERP stand-in listening on loopback, closed after the test."""
    r = Receiver()
    yield r
    r.close()
