"""The app factory builds the app without touching the database, so gunicorn can preload it."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.pool import Pool

from returns_inventory import create_app


def test_building_the_app_opens_no_connection_until_a_request_needs_one(settings):
    # scripts/run preloads the app before forking its workers: a connection opened here would
    # be inherited by every worker, and their requests would interleave on one socket.
    connects: list[object] = []

    def count(dbapi_connection, record):
        connects.append(dbapi_connection)

    event.listen(Pool, "connect", count)
    app = create_app(settings)
    try:
        assert connects == []
        assert app.test_client().get("/readyz").status_code == 200
        assert len(connects) == 1
    finally:
        event.remove(Pool, "connect", count)
        app.extensions["ri.database"].dispose()
