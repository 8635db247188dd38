"""One error shape: every 4xx and 5xx is an RFC 9457 problem document."""

from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from ..domain import errors as domain
from ..observability import request_id

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://returns-inventory.example/problems/"

# Domain errors and the status each one answers with. Order matters: first match wins.
STATUS_BY_ERROR: list[tuple[type[domain.DomainError], int]] = [
    (domain.ValidationFailed, 422),
    (domain.Refused, 422),
    (domain.IdempotencyMismatch, 422),
    (domain.Unauthenticated, 401),
    (domain.NotFound, 404),
    (domain.TooManyAttempts, 429),
    (domain.InsufficientStock, 409),
    (domain.Conflict, 409),
    (domain.DomainError, 400),
]


def status_of(exc: domain.DomainError) -> int:
    """The status a domain error answers with, for the API and the pages alike."""
    return next(code for cls, code in STATUS_BY_ERROR if isinstance(exc, cls))


def problem(
    status: int, title: str, detail: str, *, slug: str | None = None,
    errors: list[dict] | None = None, **extra,
) -> Response:
    body = {
        "type": PROBLEM_TYPE + (slug or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    # The id in X-Request-Id, in the body too: problem documents get pasted into tickets.
    if (rid := request_id()) is not None:
        body.setdefault("request_id", rid)
    return Response(json.dumps(body), status=status, mimetype="application/problem+json")


def _domain_error(exc: domain.DomainError) -> Response:
    status = status_of(exc)
    slug = type(exc).__name__.replace("Error", "")
    slug = "".join(f"-{c.lower()}" if c.isupper() else c for c in slug).lstrip("-")
    response = problem(
        status, exc.title, exc.detail, slug=slug,
        errors=[e.to_dict() for e in exc.errors],
        # Extra members never overwrite the standard ones (RFC 9457 section 3.2).
        **{k: v for k, v in exc.extra.items() if k not in {"type", "title", "status", "detail"}},
    )
    if isinstance(exc, domain.TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, domain.Unauthenticated):
        response.headers["WWW-Authenticate"] = 'Bearer realm="returns-inventory"'
    return response


def _field_errors(messages, prefix: str = "") -> list[dict]:
    """Flatten marshmallow/webargs messages into [{field, reason}] with dotted paths."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in {"json", "query", "form", "headers", "files", "view_args"} and not prefix:
                out += _field_errors(value, "")
                continue
            if key == "_schema":  # marshmallow's name for the object as a whole
                out += _field_errors(value, prefix)
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            out += _field_errors(value, path)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out += [{"field": prefix or "body", "reason": m} for m in messages]
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out += _field_errors(value, f"{prefix}[{i}]")
    else:
        out.append({"field": prefix or "body", "reason": str(messages)})
    return out


def _http_error(exc: HTTPException) -> Response:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages is not None:
        return problem(
            422, "Validation failed", "the request has fields that are missing or wrong",
            slug="validation-failed", errors=_field_errors(messages),
        )
    detail = exc.description or exc.name
    if exc.code == 413:
        detail = "the request body is larger than this endpoint accepts"
    response = problem(exc.code or 500, exc.name, detail)
    # Keep what the client needs to recover, e.g. Allow on 405 (not werkzeug's content type).
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


# Reads change nothing, so "the change was not applied" would be a false statement there.
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _unexpected(exc: Exception) -> Response:
    log.exception("unhandled error")
    if request.method in READS:
        detail = "the server failed to answer; reading changes nothing, so it is safe to retry"
    else:
        detail = "the server failed; the change was not applied"
    return problem(500, "Internal Server Error", detail)


def init_app(app: Flask) -> None:
    app.register_error_handler(domain.DomainError, _domain_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
