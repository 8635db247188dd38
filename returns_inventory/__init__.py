"""Inventory-aware returns and replenishment service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .settings import Settings

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI app; nothing connects or reads configuration before this is called."""
    # Imported here so that `returns_inventory.domain` (and forecasting jobs) load without Flask.
    from flask import Flask

    from . import api, extensions, web

    settings = settings or Settings.load()
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.config.update(
        SECRET_KEY=settings.secret_key or extensions.ephemeral_secret(app),
        MAX_CONTENT_LENGTH=settings.max_import_bytes,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    extensions.init_app(app, settings)
    api.init_app(app)
    web.init_app(app)
    return app
