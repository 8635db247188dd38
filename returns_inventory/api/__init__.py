"""The versioned JSON API under /api/v1: one blueprint per resource, documented by OpenAPI."""

from __future__ import annotations

from flask import Flask, request

from ..extensions import settings
from . import (
    auth,
    claims,
    errors,
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
    text_input,
    units,
    webhooks,
)
from .body import body_limit
from .errors import problem

RESOURCES = [
    stock.blp, ledger.blp, items.blp, locations.blp,
    returns.blp, units.blp, labels.blp, exchanges.blp, events.blp, forecast_runs.blp, webhooks.blp,
    imports.blp, reports.blp, quality.blp, claims.blp,
    replenishment.blp, refunds.blp,
]


def init_app(app: Flask) -> None:
    api = openapi.init_app(app)
    units.init_app(app, api)
    for blueprint in [*RESOURCES, health.blp]:
        api.register_blueprint(blueprint)
    app.extensions["ri.api"] = api
    # Order matters: size first (cheap), then who is asking, then NUL characters (before any
    # text reaches the database), then idempotency (needs the actor).
    app.before_request(_limit_body_size)
    auth.init_app(app)
    text_input.init_app(app)
    idempotency.init_app(app)
    errors.init_app(app)


def _limit_body_size():
    limit = body_limit(settings().max_request_bytes)
    if limit is None:
        return None  # bulk imports stream their body; MAX_CONTENT_LENGTH bounds them
    # Also bounds bodies sent without Content-Length (chunked): werkzeug stops reading at
    # the limit and raises 413, which errors.py turns into the same problem document.
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        return problem(
            413, "Content Too Large", f"request bodies here are limited to {limit} bytes",
            slug="content-too-large",
        )
    return None
