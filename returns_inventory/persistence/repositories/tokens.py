"""API tokens (stored hashed) and idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from ...domain.access import Role
from ..tables import api_tokens
from .base import Repository, utcnow


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
        row.id, row.name, Role(row.role), row.prefix, row.created_at,
        row.revoked_at, row.last_used_at,
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

    def any_revoked(self, token_ids: list[int]) -> bool:
        return self.connection.execute(
            select(api_tokens.c.id).where(api_tokens.c.id.in_(token_ids),
                                          api_tokens.c.revoked_at.is_not(None)).limit(1)
        ).first() is not None

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
