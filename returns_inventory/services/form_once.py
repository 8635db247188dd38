"""A page's form applied at most once: its one-time token is claimed as an idempotency key.

The bench's receiving, undo and supervisor forms carry a token made when the page was drawn.
A second submission of the same form (a double click, a resent POST after a lost answer)
finds the first one's stored answer and shows it instead of applying the work again.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from ..domain.errors import Conflict, NotFound
from ..persistence.uow import Fence, UowFactory, fenced

WAIT_FOR_TWIN_S = 5.0
POLL_S = 0.1
# A claim older than this belongs to a request that died; its twin may take over.
ABANDONED_AFTER_S = 60


class StillWorking(Conflict):
    """The same form is being applied by another request right now."""


def once(uow_factory: UowFactory, *, actor: str, form: str, submission: str, subject: str,
         work: Callable[[], Any], answer: Callable[[Any], dict]) -> tuple[dict, bool]:
    """Run `work` once per submitted form; (its answer, whether this was a resubmission).

    `subject` names what the form acts on (a return, a unit): the same token sent for another
    subject is a different request, refused as the API refuses a reused Idempotency-Key.
    """
    if not submission:
        raise NotFound("This form is missing its one-time token. Open the page again.")
    key = f"{form}:{submission[:200]}"
    fence = Fence(actor, key, uuid.uuid4().hex)
    fingerprint = hashlib.sha256(subject.encode()).hexdigest()
    with uow_factory() as uow:
        stored = uow.idempotency.claim(actor=actor, key=key, method="POST", path=f"/{form}",
                                       request_hash=fingerprint, token=fence.token,
                                       lock_seconds=ABANDONED_AFTER_S)
        uow.commit()
    if stored is not None:
        if stored.request_hash != fingerprint:
            raise Conflict("This form was already used for something else. Open the page again.")
        return _wait_for_twin(uow_factory, actor, key, stored), True
    try:
        with fenced(fence):  # should a resent form have taken over, this work rolls back
            body = answer(work())
    except BaseException:
        with uow_factory() as uow:
            uow.idempotency.release(**fence._asdict())
            uow.commit()
        raise
    with uow_factory() as uow:
        uow.idempotency.complete(**fence._asdict(), status_code=200, body=json.dumps(body),
                                 content_type="application/json")
        uow.commit()
    return body, False


def stored_answer(uow_factory: UowFactory, *, actor: str, form: str, submission: str) -> dict:
    """What a submitted form answered (for the page after the redirect)."""
    with uow_factory() as uow:
        stored = uow.idempotency.stored(actor=actor, key=f"{form}:{submission[:200]}")
    if stored is None or stored.response_body is None:
        raise NotFound("There is nothing recorded for this form. Open the page again.")
    return json.loads(stored.response_body)


def _wait_for_twin(uow_factory, actor: str, key: str, stored) -> dict:
    deadline = time.monotonic() + WAIT_FOR_TWIN_S
    while not stored.completed:
        if time.monotonic() > deadline:
            raise StillWorking("This form is still being sent from another click. Wait a "
                               "moment and reload the page.")
        time.sleep(POLL_S)
        with uow_factory() as uow:
            stored = uow.idempotency.stored(actor=actor, key=key)
        if stored is None:
            raise StillWorking("The first sending of this form failed; nothing was done. "
                               "Open the page again.")
    if stored.response_body is None:
        raise Conflict("This form was applied but its answer was lost. Open the page again.")
    return json.loads(stored.response_body)
