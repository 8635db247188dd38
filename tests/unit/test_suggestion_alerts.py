"""The lists' quality alerts are computed once per few minutes and day per app, not per page."""

from __future__ import annotations

from datetime import date

import pytest

from returns_inventory.services import suggestion_alerts
from returns_inventory.services.policies import Policies
from returns_inventory.services.quality_alerts import QualityAlerts
from returns_inventory.settings import Settings

DAY = date(2026, 12, 5)


@pytest.fixture
def computed(monkeypatch):
    calls = []

    def compute(uow, policies, today):
        calls.append(today)
        return QualityAlerts(styles={f"call{len(calls)}": {}})

    monkeypatch.setattr(suggestion_alerts, "current_alerts", compute)
    suggestion_alerts.forget()
    yield calls
    suggestion_alerts.forget()


def _policies() -> Policies:
    return Policies.from_settings(Settings.load(env={}))


def test_pages_of_the_same_day_share_one_computation(computed):
    policies = _policies()
    first = suggestion_alerts.listed_alerts(None, policies, DAY)
    assert suggestion_alerts.listed_alerts(None, policies, DAY) is first
    assert computed == [DAY]


def test_a_new_day_another_app_or_an_old_answer_computes_afresh(computed, monkeypatch):
    policies, other = _policies(), _policies()
    suggestion_alerts.listed_alerts(None, policies, DAY)
    suggestion_alerts.listed_alerts(None, other, DAY)
    suggestion_alerts.listed_alerts(None, policies, date(2026, 12, 6))
    assert len(computed) == 3
    monkeypatch.setattr(suggestion_alerts, "FRESH_SECONDS", 0.0)
    suggestion_alerts.listed_alerts(None, policies, date(2026, 12, 6))
    assert len(computed) == 4
