"""API tokens: created once and shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ..domain.access import Role
from ..domain.errors import FieldError, Unauthenticated, ValidationFailed
from ..persistence.repositories.tokens import Token
from ..persistence.uow import UowFactory

TOKEN_PREFIX = "ri_"
LAST_USED_PRECISION = timedelta(minutes=5)
# Clients (benches, scanners, ERP connections) one process remembers: far more than a
# warehouse has, and small enough that an unbounded stream of secrets costs nothing.
TOKENS_SEEN = 1024


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


class TokensSeen:
    """The tokens this process authenticated in the last few minutes, by hash, at most
    `size` of them (least recently used go first); safe to share between threads.

    Only work that confirms the token is still active in its own transaction may take a
    token from here (`recall`): grading asks in the statement that locks the unit, so a
    revoked token is refused on its very next grade without a round trip of its own.
    """

    def __init__(self, size: int = TOKENS_SEEN):
        self._size = size
        self._tokens: OrderedDict[str, Token] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, token_hash: str, token: Token) -> None:
        with self._lock:
            self._tokens[token_hash] = token
            self._tokens.move_to_end(token_hash)
            while len(self._tokens) > self._size:
                self._tokens.popitem(last=False)

    def recall(self, secret: str) -> Token | None:
        """The token for this secret if seen within LAST_USED_PRECISION, unconfirmed: older
        ones are looked up again, which also notes their use."""
        token_hash = hash_token(secret)
        with self._lock:
            token = self._tokens.get(token_hash)
            if token is not None:
                self._tokens.move_to_end(token_hash)
        fresh_since = datetime.now(UTC) - LAST_USED_PRECISION
        if token is None or token.last_used_at is None or token.last_used_at < fresh_since:
            return None
        return token


def authenticate(uow_factory: UowFactory, secret: str, seen: TokensSeen | None = None
                 ) -> Token | None:
    """The active token for this secret, or None; notes when it was last used, and
    remembers it in `seen` (for work that confirms it in its own transaction).

    The lookup is a read-only unit of work: one statement, no write lock. A revoked token is
    refused on the very next request.
    """
    token_hash = hash_token(secret)
    with uow_factory(read_only=True) as uow:
        token = uow.tokens.by_hash(token_hash)
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
        token = replace(token, last_used_at=now)
    if seen is not None:
        seen.remember(token_hash, token)
    return token


def refuse_if_revoked(revoked: bool) -> None:
    """For work that took its token from TokensSeen and asked, in its transaction, whether
    it has been revoked since."""
    if revoked:
        raise Unauthenticated("this token has been revoked")


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
