"""Bearer tokens with roles. Every endpoint needs one, except the health checks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, g, request

from ..domain.access import Role, allows
from ..extensions import uow_factory
from ..services.tokens import TokensSeen, authenticate
from .problems import problem

PUBLIC_ENDPOINTS: set[str] = {"health.healthz", "health.readyz"}
READ = frozenset(Role)


def requires_role(*roles: Role) -> Callable:
    """Mark a view with the roles that may call it (admin may call everything)."""

    def mark(view: Callable) -> Callable:
        view.required_roles = frozenset(roles)
        return view

    return mark


def confirms_token(view: Callable) -> Callable:
    """Mark a view whose work confirms, in its own transaction, that the bearer token is still
    active (grading does, in the statement that locks the unit): it may take a token this
    process saw in the last few minutes instead of looking it up. `token_to_confirm()` is the
    id the work must confirm, or None when the token was looked up for this request."""
    view.confirms_token = True
    return view


def token_to_confirm() -> int | None:
    return g.get("token_to_confirm")


def public(view: Callable) -> Callable:
    view.is_public = True
    return view


def open_endpoint_to(app: Flask, endpoint: str, *roles: Role) -> None:
    """Mark a view registered by a library (the OpenAPI pages) with the roles that may call it."""
    view = app.view_functions[endpoint]

    @functools.wraps(view)
    def marked(*args, **kwargs):
        return view(*args, **kwargs)

    app.view_functions[endpoint] = requires_role(*roles)(marked)


def _required_roles(view) -> frozenset[Role] | None:
    cls = getattr(view, "view_class", None)
    if cls is not None:
        method = request.method.lower()
        # MethodView answers HEAD with get(); the roles must follow the same rule.
        if method == "head" and not hasattr(cls, "head"):
            method = "get"
        view = getattr(cls, method, None)
    return getattr(view, "required_roles", None)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def current_actor() -> str:
    return g.actor


def authenticate_request():
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or request.endpoint in PUBLIC_ENDPOINTS or getattr(view, "is_public", False):
        return None
    token = None
    secret = _bearer()
    if secret:
        seen = current_app.extensions["ri.tokens_seen"]
        if getattr(view, "confirms_token", False) and (token := seen.recall(secret)):
            g.token_to_confirm = token.id
        else:
            token = authenticate(uow_factory(), secret, seen)
    if token is None:
        user_auth = current_app.extensions.get("ri.session_auth")
        principal = user_auth() if user_auth else None
        if principal is None:
            response = problem(401, "Unauthorized", "a valid bearer token is required")
            response.headers["WWW-Authenticate"] = 'Bearer realm="returns-inventory"'
            return response
        g.actor, g.role = principal
    else:
        g.actor, g.role = token.actor, token.role
    g.authenticated_at = datetime.now(UTC)
    roles = _required_roles(view)
    # A view nobody marked is admin-only: forgetting the decorator fails closed.
    if not allows(g.role, roles or frozenset()):
        return problem(
            403, "Forbidden", f"the role {g.role.value} may not {request.method} {request.path}"
        )
    return None


def init_app(app: Flask) -> None:
    app.extensions["ri.tokens_seen"] = TokensSeen()
