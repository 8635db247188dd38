"""`returns-inventory user ...`: the people who log in to the web pages."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from .domain.access import Role
from .domain.errors import DomainError
from .extensions import uow_factory
from .services.users import create_user, disable_user


def _fail(exc: DomainError) -> None:
    click.echo(f"error: {exc.detail}", err=True)
    for error in exc.errors:
        click.echo(f"  {error.field}: {error.reason}", err=True)
    sys.exit(2)


@click.group("user")
def user_command() -> None:
    """People who log in to the web pages (same roles as API tokens)."""


@user_command.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--display-name", default=None, help="shown on the pages; defaults to username")
# Prompted when not given, so the password stays out of shell history and `ps`.
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def user_create(username: str, role: str, display_name: str | None, password: str) -> None:
    """Create a person who can log in with one role."""
    try:
        person = create_user(uow_factory(), username=username, role=role, password=password,
                             display_name=display_name)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"user {person.username!r} ({person.role.value}) created; log in at /login")


@user_command.command("list")
@with_appcontext
def user_list() -> None:
    """List people (never their password hashes)."""
    with uow_factory()() as uow:
        for person in uow.users.list():
            state = "active" if person.active else "disabled"
            click.echo(f"{person.username}\t{person.role.value}\t{person.display_name}\t{state}")


@user_command.command("disable")
@click.option("--username", required=True)
@with_appcontext
def user_disable(username: str) -> None:
    """Stop a person logging in; their open sessions end on their next click."""
    try:
        disable_user(uow_factory(), username=username)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"user {username!r} disabled")
