"""`returns-inventory demo load`: a demo business, or the real Online Retail data, loaded the
way production data arrives (ERP imports, then returns through the services)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext

from .domain.errors import DomainError
from .extensions import policies, settings, uow_factory


@click.group("demo")
def demo_command() -> None:
    """Demo data for trying the service."""


@demo_command.command("load")
@click.option("--skus", type=click.IntRange(min=1), default=60, show_default=True,
              help="style-colour SKUs of the synthetic demo (each in 4-6 sizes)")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--online-retail", "online_retail", is_flag=True,
              help="load the UCI Online Retail gzip CSV FILES instead of the synthetic demo")
@click.option("--max-return-units", type=click.IntRange(min=0), default=2000, show_default=True,
              help="Online Retail: replay the newest customer returns up to this many units")
@click.option("--logins-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="also write the new demo logins to this file (mode 600)")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def demo_load(skus, seed, online_retail, max_return_units, logins_file, files) -> None:
    """Load demo data into an EMPTY database once, create demo logins, forecast once.

    A database that already holds a demo, or any other items, locations or sales, is left
    alone (exit 0, saying why).
    """
    if online_retail and not files:
        raise click.UsageError("--online-retail needs the gzip CSV FILES to read")
    if files and not online_retail:
        raise click.UsageError("FILES are read only with --online-retail")
    started = time.perf_counter()

    def say(message: str) -> None:
        click.echo(f"[{time.perf_counter() - started:6.1f}s] {message}", err=True)

    try:
        if online_retail:
            from .demo.online_retail import load_online_retail

            report = load_online_retail(uow_factory(), settings(), policies(), list(files),
                                        max_return_units=max_return_units, say=say)
        else:
            from .demo.synthetic import load_synthetic

            report = load_synthetic(uow_factory(), settings(), policies(), skus=skus,
                                    seed=seed, say=say)
    except DomainError as exc:
        click.echo(f"error: {exc.detail}", err=True)
        for error in exc.errors[:20]:
            click.echo(f"  {error.field}: {error.reason}", err=True)
        sys.exit(2)
    if report.skipped:
        click.echo(f"demo: {report.skipped}")
        return
    _tell(report, logins_file)


def _tell(report, logins_file: Path | None) -> None:
    """What was loaded, and the demo logins (to the file when one was named)."""
    for kind, what in report.imports.items():
        click.echo(f"imported {kind}: {what}")
    click.echo("returns: " + ", ".join(f"{k} {v}" for k, v in report.returns.items()))
    for note in report.notes:
        click.echo(f"note: {note}")
    run = report.forecast or {}
    click.echo(f"forecast run {run.get('id')} {run.get('status')} as of {run.get('as_of')}: "
               f"{run.get('series_count')} series, {run.get('suggestion_count')} suggestions")
    if report.logins and logins_file:
        # Whoever asked for the file shows it (scripts/run does, on every start): printing the
        # passwords here as well would show them twice.
        _write_logins(logins_file, report.logins)
        click.echo(f"demo web logins ({', '.join(report.logins)}) kept in {logins_file}")
    elif report.logins:
        click.echo("demo web logins (passwords are random; shown only now):")
        for user, password in report.logins.items():
            click.echo(f"  {user:8} {password}")
    click.echo(f"demo loaded in {report.seconds:.0f}s")


def _write_logins(path: Path, logins: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        for user, password in logins.items():
            out.write(f"{user} {password}\n")
