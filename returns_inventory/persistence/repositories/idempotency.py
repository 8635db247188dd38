"""Idempotency keys: which attempt of a request holds its key, and what it answered.

A key is claimed in a transaction of its own before the request runs. The request's work
then *fences* the key in the same transaction as the work (UnitOfWork.commit): it marks the
key applied, but only if its attempt still holds the claim. So exactly one attempt's work
ever commits, whether a retry arrives while the first is still running or after it died.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from ..tables import idempotency_keys as keys
from .base import Repository, upsert, utcnow


@dataclass(frozen=True)
class StoredRequest:
    request_hash: str
    status_code: int | None
    response_body: str | None
    content_type: str | None
    created_at: datetime
    applied: bool = False
    # The attempt holding the key has ended without an answer to keep (it failed after its
    # work committed), or has gone quiet for longer than the lock (it died, or is very slow).
    ended: bool = False
    abandoned: bool = False

    @property
    def completed(self) -> bool:
        return self.status_code is not None

    @property
    def answer_lost(self) -> bool:
        """Applied, and no answer will come: a retry must read the result instead."""
        return self.applied and not self.completed and (self.ended or self.abandoned)


def _stored(row) -> StoredRequest:
    return StoredRequest(
        row.request_hash, row.status_code, row.response_body, row.content_type,
        row.created_at, row.applied_at is not None, row.completed_at is not None,
    )


class IdempotencyRepository(Repository):
    def _key(self, actor: str, key: str):
        return (keys.c.actor == actor, keys.c.key == key)

    def claim(
        self, *, actor: str, key: str, method: str, path: str, request_hash: str,
        token: str, lock_seconds: int,
    ) -> StoredRequest | None:
        """Claim the key for this attempt (None), or return what the key holds."""
        now = utcnow()
        # RETURNING, not rowcount: SQLAlchemy does not keep an INSERT's rowcount (PostgreSQL
        # reported -1, so every retry looked like a first attempt and was applied again).
        inserted = self.connection.execute(
            upsert(self.connection, keys)
            .values(
                actor=actor, key=key, method=method, path=path, request_hash=request_hash,
                created_at=now, claim_token=token,
            )
            .on_conflict_do_nothing(index_elements=["actor", "key"])
            .returning(keys.c.key)
        ).first()
        if inserted is not None:
            return None
        stored = _stored(
            self.connection.execute(
                select(keys).where(*self._key(actor, key)).with_for_update()
            ).one()
        )
        quiet = stored.created_at < now - timedelta(seconds=lock_seconds)
        if quiet and not stored.completed and not stored.applied and (
            stored.request_hash == request_hash
        ):
            # The first attempt applied nothing and has gone quiet: it died, or is slow. Take
            # the claim over; should the first attempt still commit, its fence now fails.
            self.connection.execute(
                keys.update().where(*self._key(actor, key)).values(created_at=now,
                                                                   claim_token=token)
            )
            return None
        # Applied but not yet completed is the normal state of a request between its work's
        # commit and the storing of its answer: only an ended or quiet attempt lost it.
        return replace(stored, abandoned=quiet)

    def fence(self, *, actor: str, key: str, token: str) -> bool:
        """In the work's own transaction: mark the key applied if this attempt holds it."""
        return self.connection.execute(
            keys.update()
            .where(*self._key(actor, key), keys.c.claim_token == token)
            .values(applied_at=func.coalesce(keys.c.applied_at, utcnow()))
            .returning(keys.c.key)
        ).first() is not None

    def stored(self, *, actor: str, key: str) -> StoredRequest | None:
        """What a key holds now, without claiming it (a page showing an earlier answer)."""
        row = self.connection.execute(select(keys).where(*self._key(actor, key))).first()
        return _stored(row) if row else None

    def complete(
        self, *, actor: str, key: str, token: str, status_code: int, body: str,
        content_type: str,
    ) -> None:
        self.connection.execute(
            keys.update()
            .where(*self._key(actor, key), keys.c.claim_token == token)
            .values(
                status_code=status_code, response_body=body, content_type=content_type,
                completed_at=utcnow(),
            )
        )

    def release(self, *, actor: str, key: str, token: str) -> None:
        """Free the key for a retry, unless this attempt's work was applied after all: then
        the key stays, marked as ended without an answer."""
        held = (*self._key(actor, key), keys.c.claim_token == token)
        self.connection.execute(delete(keys).where(*held, keys.c.applied_at.is_(None)))
        self.connection.execute(
            keys.update().where(*held, keys.c.applied_at.is_not(None),
                                keys.c.status_code.is_(None))
            .values(completed_at=utcnow())
        )

    def purge_older_than(self, hours: int) -> int:
        return self.connection.execute(
            delete(keys).where(keys.c.created_at < utcnow() - timedelta(hours=hours))
        ).rowcount
