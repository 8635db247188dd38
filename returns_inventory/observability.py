"""Request ids, one JSON log line per request, request metrics, and GET /metrics.

Every answer carries `X-Request-Id`: the caller's own when it sent a usable one (so an ERP
can follow its call through our logs), else a new one. Problem documents repeat it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request

from . import metrics
from .domain.access import Role

HEADER = "X-Request-Id"
# Only ids that are safe to copy into logs and headers are taken; anything else is replaced.
USABLE_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
log = logging.getLogger("returns_inventory.requests")


def request_id() -> str | None:
    """This request's id, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


class JsonLines(logging.Formatter):
    """One JSON object per line: what log shippers parse without a grammar."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC)
        line = {"ts": at.isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        return json.dumps(line, separators=(",", ":"))


def start_request() -> None:
    sent = request.headers.get(HEADER, "")
    # 128 random bits as 32 hex digits, as uuid4().hex gave, without building a UUID.
    g.request_id = sent if USABLE_ID.match(sent) else os.urandom(16).hex()
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    response.headers[HEADER] = g.get("request_id") or ""
    seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
    rule = request.url_rule.rule if request.url_rule is not None else "(no route)"
    status = str(response.status_code)
    metrics.http_requests.labels(rule, request.method, status).observe(seconds)
    if log.isEnabledFor(logging.INFO):  # the line's fields cost a request more than its check
        log.info("%s %s %s", request.method, request.path, status, extra={"fields": {
            "method": request.method, "path": request.path, "status": response.status_code,
            "ms": round(seconds * 1000, 1), "actor": g.get("actor"),
            "request_id": g.get("request_id")}})
    return response


def metrics_view():
    """Prometheus text format, every process of this server summed (admin token)."""
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)


metrics_view.required_roles = frozenset({Role.ADMIN})


def init_app(app: Flask) -> None:
    """The request log and /metrics; the request's steps are run by hooks.py (the id first of
    all, since any step may answer)."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLines())
        log.addHandler(handler)
        log.propagate = False  # the root handler would print it a second time, not as JSON
    log.setLevel(app.extensions["ri.settings"].log_level)  # request lines are INFO
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
