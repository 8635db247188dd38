"""API tokens: created once and shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..domain.access import Role
from ..domain.errors import FieldError, ValidationFailed
from ..persistence.uow import UowFactory

TOKEN_PREFIX = "ri_"
LAST_USED_PRECISION = timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedToken:
    id: int
    name: str
    role: Role
    secret: str


def hash_token(secret: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(uow_factory: UowFactory, *, name: str, role: str) -> IssuedToken:
    """Issue a new token for a named client or person with one role."""
    try:
        role_ = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed(
            f"unknown role {role!r}", errors=[FieldError("role", f"one of {allowed}")]
        ) from None
    if not name.strip():
        raise ValidationFailed("a token needs a name", errors=[FieldError("name", "required")])
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with uow_factory() as uow:
        token_id = uow.tokens.add(
            name=name.strip(), role=role_, token_hash=hash_token(secret), prefix=secret[:8]
        )
        uow.commit()
    return IssuedToken(token_id, name.strip(), role_, secret)


def authenticate(uow_factory: UowFactory, secret: str):
    """The active token for this secret, or None; notes when it was last used.

    Every request asks, so the lookup is a read-only unit of work: one statement, no write
    lock. A revoked token is refused on the very next request; nothing is cached.
    """
    with uow_factory(read_only=True) as uow:
        token = uow.tokens.by_hash(hash_token(secret))
    if token is None:
        return None
    now = datetime.now(UTC)
    stale_before = now - LAST_USED_PRECISION
    # A write per request would serialise every reader on one row (and on SQLite's write
    # lock); "last used" to within a few minutes is all an admin auditing tokens needs.
    if token.last_used_at is None or token.last_used_at < stale_before:
        with uow_factory() as uow:
            uow.tokens.touch(token.id, now=now, stale_before=stale_before)
            uow.commit()
    return token


def list_tokens(uow_factory: UowFactory) -> list:
    """Every token, oldest first (names, roles, prefixes; the secrets were never kept)."""
    with uow_factory() as uow:
        return uow.tokens.list()


def revoke_tokens(uow_factory: UowFactory, name: str) -> int:
    """Revoke every active token with this name; how many."""
    with uow_factory() as uow:
        count = uow.tokens.revoke(name)
        uow.commit()
    return count


def ensure_admin_token(uow_factory: UowFactory, *, name: str = "admin") -> IssuedToken | None:
    """A first admin token for a fresh install; None when an admin token already exists."""
    with uow_factory() as uow:
        if uow.tokens.count_active(Role.ADMIN):
            return None
    return create_token(uow_factory, name=name, role=Role.ADMIN.value)
