"""Idempotency-Key: a retried request answers what the first one answered, applied once."""

from __future__ import annotations

import uuid

from flask import Flask, Response, g, request

from ..extensions import settings, uow_factory
from ..http.body import request_fingerprint
from ..http.problems import problem
from ..persistence.uow import Fence, drop_fence, hold_fence
from ..services.idempotency import claim_key, release_key, store_answer

HEADER = "Idempotency-Key"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
NOT_ATTEMPTED = {401, 403}


def current_key() -> str | None:
    """The key this request holds, for services that also record it (e.g. on the ledger)."""
    fence = g.get("idempotency_fence")
    return fence.key if fence else None


def claim():
    key = request.headers.get(HEADER)
    if request.method not in MUTATING or not key or "actor" not in g:
        return None
    if len(key) > 255:
        return problem(
            400, "Bad Request", "Idempotency-Key is longer than 255 characters",
            errors=[{"field": HEADER, "reason": "at most 255 characters"}],
        )
    fingerprint = request_fingerprint()
    fence = Fence(g.actor, key, uuid.uuid4().hex)
    stored = claim_key(uow_factory(), fence, method=request.method, path=request.path,
                       fingerprint=fingerprint, lock_seconds=settings().idempotency_lock_seconds)
    if stored is None:
        # The request's own units of work commit only while this attempt holds the key.
        g.idempotency_fence = fence
        g.idempotency_held = hold_fence(fence)
        return None
    if stored.request_hash != fingerprint:
        return problem(
            422, "Idempotency key reused", "this Idempotency-Key was used for a different request",
            slug="idempotency-key-reused", errors=[{"field": HEADER, "reason": "reused"}],
        )
    if stored.answer_lost:
        return problem(
            409, "Request applied, answer lost",
            "a request with this Idempotency-Key was applied, but its answer was lost; read "
            "the resource to see the result instead of sending it again",
            slug="request-applied-answer-lost",
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


def _leave_fence() -> Fence | None:
    fence = g.pop("idempotency_fence", None)
    if (held := g.pop("idempotency_held", None)) is not None:
        drop_fence(held)
    return fence


def store(response: Response) -> Response:
    fence = _leave_fence()
    if fence is None:
        return response
    if response.status_code >= 500 or response.status_code in NOT_ATTEMPTED or \
            response.is_streamed:
        # A server failure, or a request refused before any work (the browser's CSRF
        # check runs after the claim): let the client retry with the same key, unless the
        # work had committed before the failure (then the key stays, applied, and says so).
        release_key(uow_factory(), fence)
    else:
        store_answer(uow_factory(), fence, status_code=response.status_code,
                     body=response.get_data(as_text=True), content_type=response.content_type)
    return response


def _release_on_crash(exc):
    fence = _leave_fence()
    if fence is not None and exc is not None:
        release_key(uow_factory(), fence)


def init_app(app: Flask) -> None:
    """The claim and the answer kept are steps of hooks.py; a crash releases the key here."""
    app.teardown_request(_release_on_crash)
