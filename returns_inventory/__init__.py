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
    from werkzeug.middleware.proxy_fix import ProxyFix

    from . import api, extensions, hooks, http, observability, web

    settings = settings or Settings.load()
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    app.config.update(
        SECRET_KEY=settings.secret_key or extensions.ephemeral_secret(app),
        MAX_CONTENT_LENGTH=settings.max_import_bytes,
        JSON_SORT_KEYS=False,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure cookies only where browsers reach the service over HTTPS: on plain HTTP the
        # browser would not send the session cookie back and nobody could log in.
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    extensions.init_app(app, settings)
    observability.init_app(app)
    if settings.trusted_proxies:
        # The client's address (login throttling) and scheme come from the proxies' headers.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    http.init_app(app)
    api.init_app(app)
    http.answer_with_problems(app)
    web.init_app(app)
    hooks.init_app(app)  # every request's steps before and after its view
    return app
