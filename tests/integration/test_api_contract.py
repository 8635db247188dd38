"""The OpenAPI document is the ERP's contract: schemathesis holds the running API to it.

Every operation gets generated requests, valid and invalid, with a fixed seed; every check
runs (server errors, undocumented statuses, answers off their schema, content types, headers,
valid input refused, invalid input accepted, Allow headers ...). A failure names the operation,
the check, the request as curl and the answer.
"""

from __future__ import annotations

import hashlib
import io
import threading
import traceback
from collections import defaultdict
from functools import partial

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from werkzeug.serving import make_server

from returns_inventory.persistence.uow import UnitOfWork
from returns_inventory.services.tokens import create_token
from tests.factories import add_item, add_location, app_on, stock_up

SEED = 20260514
EXAMPLES = 25  # per operation and phase: a few minutes per backend
# Schema-valid requests these operations refuse with 422 for a rule of the business that no
# schema can state: the return window and reason codes of policy, what was sold or received,
# a file's rows, an image's bytes, the grading policy's defect codes, a webhook URL's host, a
# run's as-of date (not after today, not before the first sale) and its configured max_workers,
# an inspection override's deductions (named in policy; only a deduct outcome has them), a
# suggestions page's `after` (a cursor only that list, sorted alike, can have given).
# Anywhere else a 422 for schema-valid input means the document hides a limit, and fails.
BUSINESS_RULES = [
    ("POST", "/api/v1/returns"),
    ("POST", "/api/v1/returns/{rma}/receipts"),
    ("POST", "/api/v1/receipts/blind"),
    ("POST", "/api/v1/imports/{kind}"),
    ("POST", "/api/v1/units/{unit_id}/photos"),
    ("POST", "/api/v1/units/{unit_id}/grade"),
    ("POST", "/api/v1/units/{unit_id}/regrade"),
    ("POST", "/api/v1/units/grades"),
    ("POST", "/api/v1/units/{unit_id}/outcome"),
    ("POST", "/api/v1/webhooks"),
    ("POST", "/api/v1/forecast-runs"),
    ("GET", "/api/v1/replenishment/suggestions"),
]
ACCEPTED = ["2XX", 401, 403, 404, 409]


@pytest.mark.slow
def test_every_operation_keeps_to_its_documented_contract(settings, committing_db):
    # A committing database of its own: a request that fails mid-transaction must not spoil
    # the connection every later request shares (as one rolled-back test transaction would).
    app = app_on(settings, committing_db)
    uow_factory = partial(UnitOfWork, committing_db)
    add_location(uow_factory, "WH1")
    add_item(uow_factory, "TEE-BLK", "M")
    stock_up(uow_factory, "TEE-BLK", "M", "WH1", 50)
    headers = {"Authorization": "Bearer " + create_token(uow_factory, name="schemathesis",
                                                         role="admin").secret}
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "headers": headers,
        "generation": {"max-examples": EXAMPLES, "deterministic": True},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": True},
        "operations": [
            {"include-method": method, "include-path": path, "checks": {
                "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, 422]}}}
            for method, path in BUSINESS_RULES
        ],
    })
    # The WSGI transport of schemathesis cannot send its auth probes; a real server can.
    server = make_server("127.0.0.1", 0, _one_key_per_request(app))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        schema = schemathesis.openapi.from_url(
            f"http://127.0.0.1:{server.server_port}/api/v1/openapi.json", config=config,
            headers=headers)
        failures, requests = _run(schema)
    finally:
        server.shutdown()
        thread.join()
    assert requests > 40 * EXAMPLES  # every operation was exercised, not skipped
    report = "\n".join(f"{label}\n  " + "\n  ".join(sorted(found))
                       for label, found in sorted(failures.items()))
    assert not failures, report


def _one_key_per_request(app):
    """An ERP sends a new Idempotency-Key with each new request; generated keys repeat ("0")
    across different requests and would be refused, rightly, as reused. So each key gets the
    request mixed in (a request sent again still replays); overlong keys stay as they are, to
    be refused as such."""

    def middleware(environ, start_response):
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        if key is not None and len(key) <= 255:
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            request = "\n".join([key, environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""),
                                 environ.get("QUERY_STRING", "")]).encode() + body
            environ["HTTP_IDEMPOTENCY_KEY"] = hashlib.sha256(request).hexdigest()
        return app(environ, start_response)

    return middleware


def _run(schema) -> tuple[dict[str, set[str]], int]:
    """Run every phase; the first failure of each kind per operation, and the request count."""
    failures: dict[str, set[str]] = defaultdict(set)
    requests = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            error = getattr(event, "value", None) or getattr(event, "exception", None)
            failures[f"(schemathesis) {getattr(event, 'label', '')}"].add(
                "".join(traceback.format_exception(error))[-1500:])
        if not isinstance(event, events.ScenarioFinished):
            continue
        requests += len(event.recorder.interactions)
        for case_id, checks in event.recorder.checks.items():
            interaction = event.recorder.interactions.get(case_id)
            response = interaction.response if interaction is not None else None
            for check in checks:
                if check.status != Status.FAILURE or check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                kind = f"{check.name}: {failure.title}"
                found = failures[event.recorder.label]
                if any(f.startswith(kind) for f in found):
                    continue
                answer = (f"{response.status_code} {response.content[:300]!r}"
                          if response is not None else "no answer")
                found.add(f"{kind}: {failure.message[:300]}\n"
                          f"    {check.failure_info.code_sample[:600]}\n    -> {answer}")
    return failures, requests

