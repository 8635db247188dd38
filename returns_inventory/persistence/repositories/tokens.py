"""API tokens (stored hashed) and idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select

from ...domain.access import Role
from ..tables import api_tokens, idempotency_keys
from .base import Repository, as_utc, upsert, utcnow


@dataclass(frozen=True)
class Token:
    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = None

    @property
    def actor(self) -> str:
        return f"token:{self.name}"


def _token(row) -> Token:
    return Token(
        row.id, row.name, Role(row.role), row.prefix, as_utc(row.created_at),
        as_utc(row.revoked_at), as_utc(row.last_used_at),
    )


# Every request authenticates: build the lookup once.
_TOKEN_BY_HASH = select(api_tokens).where(
    api_tokens.c.token_hash == bindparam("token_hash"), api_tokens.c.revoked_at.is_(None)
)


class TokenRepository(Repository):
    def add(self, *, name: str, role: Role, token_hash: str, prefix: str) -> int:
        return self.connection.execute(
            api_tokens.insert()
            .values(
                name=name, role=role.value, token_hash=token_hash, prefix=prefix,
                created_at=utcnow(),
            )
            .returning(api_tokens.c.id)
        ).scalar_one()

    def by_hash(self, token_hash: str) -> Token | None:
        row = self.connection.execute(_TOKEN_BY_HASH, {"token_hash": token_hash}).first()
        return _token(row) if row else None

    def touch(self, token_id: int, *, now: datetime, stale_before: datetime) -> None:
        """Record use, but only if the stored time is stale: most requests write nothing."""
        self.connection.execute(
            api_tokens.update()
            .where(
                api_tokens.c.id == token_id,
                api_tokens.c.last_used_at.is_(None) | (api_tokens.c.last_used_at < stale_before),
            )
            .values(last_used_at=now)
        )

    def list(self) -> list[Token]:
        return [_token(r) for r in self.connection.execute(select(api_tokens).order_by("id"))]

    def revoke(self, name: str) -> int:
        return self.connection.execute(
            api_tokens.update()
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount

    def count_active(self, role: Role | None = None) -> int:
        query = select(api_tokens.c.id).where(api_tokens.c.revoked_at.is_(None))
        if role:
            query = query.where(api_tokens.c.role == role.value)
        return len(self.connection.execute(query).all())


@dataclass(frozen=True)
class StoredRequest:
    request_hash: str
    status_code: int | None
    response_body: str | None
    content_type: str | None
    created_at: datetime

    @property
    def completed(self) -> bool:
        return self.status_code is not None


class IdempotencyRepository(Repository):
    def claim(
        self, *, actor: str, key: str, method: str, path: str, request_hash: str,
        lock_seconds: int,
    ) -> StoredRequest | None:
        """Claim the key for this request; if someone holds it, return what they stored."""
        now = utcnow()
        # RETURNING, not rowcount: SQLAlchemy does not keep an INSERT's rowcount (PostgreSQL
        # reported -1, so every retry looked like a first attempt and was applied again).
        inserted = self.connection.execute(
            upsert(self.connection, idempotency_keys)
            .values(
                actor=actor, key=key, method=method, path=path, request_hash=request_hash,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["actor", "key"])
            .returning(idempotency_keys.c.key)
        ).first()
        if inserted is not None:
            return None
        row = self.connection.execute(
            select(idempotency_keys)
            .where(idempotency_keys.c.actor == actor, idempotency_keys.c.key == key)
            .with_for_update()
        ).one()
        stored = StoredRequest(
            row.request_hash, row.status_code, row.response_body, row.content_type,
            as_utc(row.created_at),
        )
        abandoned = not stored.completed and stored.created_at < now - timedelta(
            seconds=lock_seconds
        )
        if abandoned and stored.request_hash == request_hash:
            # The first attempt died before answering; its work rolled back, so take over.
            self.connection.execute(
                idempotency_keys.update()
                .where(idempotency_keys.c.actor == actor, idempotency_keys.c.key == key)
                .values(created_at=now)
            )
            return None
        return stored

    def stored(self, *, actor: str, key: str) -> StoredRequest | None:
        """What a key holds now, without claiming it (a page showing an earlier answer)."""
        row = self.connection.execute(
            select(idempotency_keys)
            .where(idempotency_keys.c.actor == actor, idempotency_keys.c.key == key)
        ).first()
        if row is None:
            return None
        return StoredRequest(
            row.request_hash, row.status_code, row.response_body, row.content_type,
            as_utc(row.created_at),
        )

    def complete(
        self, *, actor: str, key: str, status_code: int, body: str, content_type: str
    ) -> None:
        self.connection.execute(
            idempotency_keys.update()
            .where(idempotency_keys.c.actor == actor, idempotency_keys.c.key == key)
            .values(
                status_code=status_code, response_body=body, content_type=content_type,
                completed_at=utcnow(),
            )
        )

    def release(self, *, actor: str, key: str) -> None:
        self.connection.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.actor == actor, idempotency_keys.c.key == key
            )
        )

    def purge_older_than(self, hours: int) -> int:
        return self.connection.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.created_at < utcnow() - timedelta(hours=hours)
            )
        ).rowcount
