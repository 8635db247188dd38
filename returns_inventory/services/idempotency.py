"""Idempotency-Keys: claim one for an attempt, store its answer, or free it for a retry.

Each is its own short transaction, outside the work the request does: the claim must be
visible to a retry before the work starts, and the answer is stored after the work committed.
"""

from __future__ import annotations

from ..persistence.repositories.idempotency import StoredRequest
from ..persistence.uow import Fence, UowFactory


def claim_key(uow_factory: UowFactory, fence: Fence, *, method: str, path: str,
              fingerprint: str, lock_seconds: int) -> StoredRequest | None:
    """None when this attempt now holds the key; otherwise what an earlier attempt left."""
    with uow_factory() as uow:
        stored = uow.idempotency.claim(
            actor=fence.actor, key=fence.key, method=method, path=path,
            request_hash=fingerprint, token=fence.token, lock_seconds=lock_seconds,
        )
        uow.commit()
    return stored


def store_answer(uow_factory: UowFactory, fence: Fence, *, status_code: int, body: str,
                 content_type: str) -> None:
    """Keep the answer a retry with the same key will get."""
    with uow_factory() as uow:
        uow.idempotency.complete(**fence._asdict(), status_code=status_code, body=body,
                                 content_type=content_type)
        uow.commit()


def release_key(uow_factory: UowFactory, fence: Fence) -> None:
    """Let a retry have the key, unless this attempt's work was applied after all."""
    with uow_factory() as uow:
        uow.idempotency.release(**fence._asdict())
        uow.commit()


def purge_keys(uow_factory: UowFactory, *, older_than_hours: int) -> int:
    """Forget keys past the retention the API promises; how many."""
    with uow_factory() as uow:
        purged = uow.idempotency.purge_older_than(older_than_hours)
        uow.commit()
    return purged
