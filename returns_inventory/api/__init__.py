"""The versioned JSON API under /api/v1: one blueprint per resource, documented by OpenAPI."""

from __future__ import annotations

from flask import Flask

from . import (
    claims,
    events,
    exchanges,
    forecast_runs,
    health,
    idempotency,
    imports,
    items,
    labels,
    ledger,
    locations,
    openapi,
    quality,
    refunds,
    replenishment,
    reports,
    returns,
    stock,
    unit_reviews,
    units,
    webhooks,
    write_offs,
)

RESOURCES = [
    stock.blp, ledger.blp, items.blp, locations.blp,
    returns.blp, units.blp, unit_reviews.blp, labels.blp, exchanges.blp, write_offs.blp, events.blp,
    forecast_runs.blp, webhooks.blp, imports.blp, reports.blp, quality.blp, claims.blp,
    replenishment.blp, refunds.blp,
]


def init_app(app: Flask) -> None:
    api = openapi.init_app(app)
    units.init_app(app, api)
    for blueprint in [*RESOURCES, health.blp]:
        api.register_blueprint(blueprint)
    app.extensions["ri.api"] = api
    # Its claim runs after who is asking and the NUL check (hooks.py); a crash releases it.
    idempotency.init_app(app)
