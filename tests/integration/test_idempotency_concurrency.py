"""Two requests with the same Idempotency-Key at the same instant, on a committing database.

The second must hear that the first is still running (or get its stored answer), never that
the first was applied and its answer lost: that is only true of an attempt that has ended.
"""

from __future__ import annotations

from functools import partial

import pytest

from returns_inventory import create_app
from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.tokens import create_token
from returns_inventory.settings import Settings
from tests.factories import add_item, add_location
from tests.integration.concurrency_support import crowd

ROUNDS = 60
ADJUST = "/api/v1/stock/adjustments"


@pytest.fixture
def app(committing_db, tmp_path):
    url = committing_db.engine.url.render_as_string(hide_password=False)
    app = create_app(Settings.load(env={"RI_INSTANCE_PATH": str(tmp_path / "instance")},
                                   database_url=url, secret_key="test-secret"))
    yield app
    app.extensions["ri.database"].dispose()


def test_the_second_of_two_simultaneous_same_key_requests_is_told_the_first_is_in_progress(
        app, committing_db):
    uow_factory = partial(UnitOfWork, committing_db)
    add_item(uow_factory, "TEE-BLK", "M")
    add_location(uow_factory, "WH1")
    headers = {"Authorization": "Bearer "
               + create_token(uow_factory, name="erp", role="planner").secret}
    body = {"sku": "TEE-BLK", "size": "M", "location": "WH1", "quantity": 1,
            "reason": "cycle count"}
    clients = [app.test_client(), app.test_client()]
    answers = []
    for n in range(ROUNDS):
        sent = {**headers, "Idempotency-Key": f"race-{n}"}
        answers += crowd([partial(c.post, ADJUST, headers=sent, json=body)
                          for c in clients])
    told = [a.get_json()["type"].rsplit("/", 1)[-1] for a in answers if a.status_code == 409]
    assert "request-applied-answer-lost" not in told
    assert set(told) <= {"request-in-progress"}
    assert all(a.status_code in (201, 409) for a in answers)
    applied = [a for a in answers
               if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(applied) == ROUNDS  # each key applied once, by one of its two requests
    stock = app.test_client().get("/api/v1/stock", headers=headers).get_json()
    assert [row["on_hand"] for row in stock["data"]] == [ROUNDS]
