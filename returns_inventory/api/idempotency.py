"""Idempotency-Key: a retried request answers what the first one answered, applied once."""

from __future__ import annotations

from flask import Flask, Response, g, request

from ..extensions import settings, uow_factory
from .body import request_fingerprint
from .errors import problem

HEADER = "Idempotency-Key"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def current_key() -> str | None:
    """The key this request holds, for services that also record it (e.g. on the ledger)."""
    return g.get("idempotency_key")


def _claim():
    key = request.headers.get(HEADER)
    if request.method not in MUTATING or not key or "actor" not in g:
        return None
    if len(key) > 255:
        return problem(
            400, "Bad Request", "Idempotency-Key is longer than 255 characters",
            errors=[{"field": HEADER, "reason": "at most 255 characters"}],
        )
    fingerprint = request_fingerprint()
    with uow_factory()() as uow:
        stored = uow.idempotency.claim(
            actor=g.actor, key=key, method=request.method, path=request.path,
            request_hash=fingerprint, lock_seconds=settings().idempotency_lock_seconds,
        )
        uow.commit()
    if stored is None:
        g.idempotency_key = key
        return None
    if stored.request_hash != fingerprint:
        return problem(
            422, "Idempotency key reused", "this Idempotency-Key was used for a different request",
            slug="idempotency-key-reused", errors=[{"field": HEADER, "reason": "reused"}],
        )
    if not stored.completed:
        return problem(
            409, "Request in progress", "a request with this Idempotency-Key is still running",
            slug="request-in-progress",
        )
    response = Response(stored.response_body, status=stored.status_code,
                        content_type=stored.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _store(response: Response) -> Response:
    key = g.pop("idempotency_key", None)
    if key is None:
        return response
    with uow_factory()() as uow:
        if response.status_code >= 500 or response.is_streamed:
            # A server failure applied nothing; let the client retry with the same key.
            uow.idempotency.release(actor=g.actor, key=key)
        else:
            uow.idempotency.complete(
                actor=g.actor, key=key, status_code=response.status_code,
                body=response.get_data(as_text=True), content_type=response.content_type,
            )
        uow.commit()
    return response


def _release_on_crash(exc):
    key = g.pop("idempotency_key", None)
    if key is not None and exc is not None:
        with uow_factory()() as uow:
            uow.idempotency.release(actor=g.actor, key=key)
            uow.commit()


def init_app(app: Flask) -> None:
    app.before_request(_claim)
    app.after_request(_store)
    app.teardown_request(_release_on_crash)
