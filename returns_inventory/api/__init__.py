"""The versioned JSON API under /api/v1: one blueprint per resource, documented by OpenAPI."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_smorest import Api

from ..extensions import settings
from . import auth, errors, health, idempotency, ledger, stock
from .errors import problem

API_PREFIX = "/api/v1"
RESOURCES = [stock.blp, ledger.blp]


def init_app(app: Flask) -> None:
    app.config.update(
        API_TITLE="Returns & replenishment API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "security": [{"bearer": []}],
            "info": {
                "description": (
                    "Every request needs `Authorization: Bearer <token>`. Requests that change "
                    "data accept an `Idempotency-Key` header. Errors are RFC 9457 problem "
                    "documents."
                )
            },
        },
    )
    api = Api(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in RESOURCES:
        api.register_blueprint(blueprint)
    app.register_blueprint(health.blp)
    app.extensions["ri.api"] = api
    app.before_request(_limit_body_size)
    auth.init_app(app)
    idempotency.init_app(app)
    errors.init_app(app)


def _limit_body_size():
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "accepts_large_body", False):
        return None  # bulk imports stream their body; MAX_CONTENT_LENGTH bounds them
    limit = settings().max_request_bytes
    if (request.content_length or 0) > limit:
        return problem(
            413, "Content Too Large", f"request bodies here are limited to {limit} bytes",
            slug="content-too-large",
        )
    return None


def large_body(view):
    """Let a view accept bodies up to max_import_bytes instead of max_request_bytes."""
    view.accepts_large_body = True
    return view
