"""People who log in to the web pages: created by an admin, checked at login, disabled."""

from __future__ import annotations

import re

from werkzeug.security import check_password_hash, generate_password_hash

from ..domain.access import Role
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed, present
from ..persistence.repositories.users import Person
from ..persistence.uow import UowFactory

MIN_PASSWORD_LENGTH = 8
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# Checked against when the username is unknown, so a wrong name costs as long as a wrong
# password and the login page does not tell which usernames exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def create_user(
    uow_factory: UowFactory, *, username: str, role: str, password: str,
    display_name: str | None = None,
) -> Person:
    """Add a person who can log in with one role (the same roles as API tokens)."""
    username = username.strip().lower()
    errors = []
    if not USERNAME.match(username):
        errors.append(FieldError("username", "2-64 of a-z, 0-9, '.', '_', '-'"))
    try:
        role_ = Role(role)
    except ValueError:
        role_ = None
        errors.append(FieldError("role", f"one of {', '.join(r.value for r in Role)}"))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"at least {MIN_PASSWORD_LENGTH} characters"))
    if errors or role_ is None:
        raise ValidationFailed("the user cannot be created as given", errors=errors)
    with uow_factory() as uow:
        if uow.users.by_username(username) is not None:
            raise Conflict(f"a user {username!r} already exists",
                           errors=[FieldError("username", "taken")])
        uow.users.add(
            username=username,
            display_name=(display_name or "").strip() or username,
            password_hash=generate_password_hash(password),
            role=role_,
        )
        person = present(uow.users.by_username(username), f"user {username}")
        uow.commit()
    return person


def authenticate_user(uow_factory: UowFactory, username: str, password: str) -> Person | None:
    """The active person with this username and password, or None (never says which was wrong)."""
    with uow_factory() as uow:
        person = uow.users.by_username(normal_username(username))
    if person is None or not person.active:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(person.password_hash, password or ""):
        return None
    return person


def normal_username(username: str | None) -> str:
    """Usernames are kept lower-case; people type them as they like."""
    return (username or "").strip().lower()


def disable_user(uow_factory: UowFactory, *, username: str) -> None:
    """Stop a person logging in, and end every session they have open, at once."""
    with uow_factory() as uow:
        if not uow.users.disable(normal_username(username)):
            raise NotFound(f"no active user {username!r}",
                           errors=[FieldError("username", "unknown or already disabled")])
        uow.users.end_sessions_of(normal_username(username))
        uow.commit()
