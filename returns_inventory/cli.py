"""The `returns-inventory` command: database, tokens, imports and ledger checks."""

from __future__ import annotations

import secrets
import sys
from dataclasses import replace

import click
from flask.cli import FlaskGroup, with_appcontext

from . import create_app
from .cli_demo import demo_command
from .cli_forecast import forecast_command
from .cli_import import import_command
from .cli_users import user_command
from .domain.access import Role
from .domain.errors import DomainError
from .extensions import database, policies, settings, uow_factory
from .persistence import migrate
from .services.analytics import refresh_returns_reports
from .services.analytics_report import recount_day_summaries
from .services.stock import count_balances, verify_ledger
from .services.tokens import create_token, ensure_admin_token, list_tokens, revoke_tokens
from .settings import Settings, SettingsError


def _cli_app():
    try:
        settings = Settings.load()
    except SettingsError as exc:
        # An operator's mistake in the environment or config/: say which, not a traceback.
        raise click.ClickException(f"configuration: {exc}") from None
    if not settings.secret_key:
        # The CLI signs no web sessions: a throwaway key spares every command the server's
        # warning that sessions will not survive a restart.
        settings = replace(settings, secret_key=secrets.token_hex(32))
    return create_app(settings)


@click.group(cls=FlaskGroup, create_app=_cli_app, add_default_commands=True)
def main() -> None:
    """Inventory-aware returns and replenishment service."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest schema (safe to run again)."""
    migrate.upgrade(database().engine, revision)
    click.echo(f"database at {migrate.current_revision(database().engine)}")


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Print the schema revision the database is at, and the code's head."""
    click.echo(f"current: {migrate.current_revision(database().engine) or 'empty'}")
    click.echo(f"head:    {migrate.head_revision()}")


@db.command("recount-summaries")
@with_appcontext
def db_recount_summaries() -> None:
    """Count the returns analytics' units sold and back per item and day again from the lines
    (after loading or mending lines with SQL, around the imports that keep them)."""
    recount_day_summaries(uow_factory())
    click.echo("units sold and returned per item and day counted again from the lines")


@db.command("refresh-reports")
@with_appcontext
def db_refresh_reports() -> None:
    """Compute the returns analytics' stored reports now, as the scheduler's returns-reports
    job does every few minutes (after `db recount-summaries`, say)."""
    done = refresh_returns_reports(uow_factory(), policies().returns)
    click.echo(f"refreshed {done['refreshed']} returns report(s) ({done['rewritten']} with "
               f"figures changed), dropped {done['dropped']}")


@db.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the table definitions (for developers)."""
    from alembic import command

    command.revision(
        migrate.alembic_config(settings().database_url), message=message, autogenerate=True
    )


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--name", required=True, help="who or what uses the token")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@with_appcontext
def token_create(name: str, role: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    try:
        issued = create_token(uow_factory(), name=name, role=role)
    except DomainError as exc:
        _fail(exc)
    click.echo(issued.secret)
    click.echo(f"token {issued.name!r} ({issued.role.value}) created; it is not shown again",
               err=True)


@token.command("ensure-admin")
@with_appcontext
def token_ensure_admin() -> None:
    """Create an admin token if none exists, and print it; print nothing otherwise."""
    issued = ensure_admin_token(uow_factory())
    if issued:
        click.echo(issued.secret)


@token.command("list")
@with_appcontext
def token_list() -> None:
    """List tokens (names, roles, prefixes; never the secrets)."""
    for t in list_tokens(uow_factory()):
        state = "revoked" if t.revoked_at else "active"
        click.echo(f"{t.id}\t{t.name}\t{t.role.value}\t{t.prefix}…\t{state}")


@token.command("revoke")
@click.option("--name", required=True)
@with_appcontext
def token_revoke(name: str) -> None:
    """Revoke every active token with this name."""
    count = revoke_tokens(uow_factory(), name)
    if not count:  # a typo, or revoked already: say which name found nothing
        click.echo(f"error: no active token is named {name!r} "
                   "(returns-inventory token list shows them)", err=True)
        sys.exit(1)
    click.echo(f"revoked {count} token(s)")


main.add_command(import_command)
main.add_command(forecast_command)
main.add_command(user_command)
main.add_command(demo_command)


@main.command("verify-ledger")
@with_appcontext
def verify_ledger_command() -> None:
    """Prove that every balance equals the sum of its movements; exit 1 naming each mismatch."""
    mismatches = verify_ledger(uow_factory())
    checked = count_balances(uow_factory())
    for mismatch in mismatches:
        click.echo(mismatch.describe(), err=True)
    if mismatches:
        click.echo(f"{len(mismatches)} of {checked} balances do not match the ledger", err=True)
        sys.exit(1)
    click.echo(f"ledger ok: {checked} balances match their movements")


@main.command("settle-refunds")
@with_appcontext
def settle_refunds_command() -> None:
    """Settle every graded return waiting for its refund and answer (the scheduler's
    settle-refunds job does this every few seconds; this is for when no scheduler runs)."""
    from .services.policies import Policies
    from .services.settlement import settle_all

    settled = settle_all(uow_factory(), Policies.from_settings(settings()))
    click.echo(f"settled {settled} return(s)")


@main.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the job scheduler in the foreground until stopped (never inside the web server).

    More than one may run against a database, on any hosts: each job runs once per tick.
    """
    from .jobs.scheduler import run_scheduler

    run_scheduler(settings(), database())


def _fail(exc: DomainError) -> None:
    click.echo(f"error: {exc.detail}", err=True)
    for error in exc.errors[:50]:
        where = f"row {error.row}, " if error.row is not None else ""
        click.echo(f"  {where}{error.field}: {error.reason}", err=True)
    if len(exc.errors) > 50:
        click.echo(f"  … and {len(exc.errors) - 50} more", err=True)
    sys.exit(2)

