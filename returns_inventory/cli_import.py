"""`returns-inventory import KIND FILE`: the same all-or-nothing import as the API, from disk."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from tqdm import tqdm

from .domain.errors import DomainError
from .extensions import settings, uow_factory
from .services.import_formats import FileFormat, file_sha256, guess_format
from .services.import_schemas import KINDS
from .services.imports import ImportResult, import_rows


def cli_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


@click.command("import")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in FileFormat]),
    help="csv or json; by default taken from the file name (sales.csv, stock.json.gz)",
)
@with_appcontext
def import_command(kind: str, file: Path, fmt: str | None) -> None:
    """Import an ERP FILE of KIND all or nothing (gzip is recognised by its bytes).

    Exits 2 listing every bad row and column when the file is refused; nothing is written
    then. A file imported before changes nothing and exits 0.
    """
    fmt = fmt or guess_format(file)[0]
    if fmt is None:
        raise click.UsageError(f"cannot tell the format of {file.name}; pass --format csv|json")
    config = settings()
    with file.open("rb") as source:
        sha256 = file_sha256(source)
        # disable=None: the bar only draws on a terminal, so scripts and CI logs stay clean.
        with tqdm(
            total=file.stat().st_size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"{kind} {file.name}",
            disable=None,
            file=sys.stderr,
        ) as bar:
            try:
                result = import_rows(
                    uow_factory(),
                    kind,
                    source,
                    fmt=fmt,
                    sha256=sha256,
                    actor=cli_actor(),
                    batch_size=config.import_batch_size,
                    max_bytes=config.max_import_bytes,
                    max_row_bytes=config.max_import_row_bytes,
                    on_read=bar.update,
                )
            except DomainError as exc:
                bar.close()
                _refused(exc)
    click.echo(_summary(result))


def _summary(result: ImportResult) -> str:
    if result.duplicate:
        return (
            f"{result.kind}: this file was already imported as batch {result.batch_id} by "
            f"{result.actor} at {result.imported_at:%Y-%m-%d %H:%M:%S %Z}; nothing changed "
            f"({result.rows} rows, {result.applied} applied, {result.skipped} skipped then)"
        )
    return (
        f"{result.kind}: imported batch {result.batch_id}: {result.rows} rows, "
        f"{result.applied} applied, {result.skipped} skipped (sha256 {result.sha256[:12]})"
    )


def _refused(exc: DomainError) -> None:
    click.echo(f"error: {exc.detail}", err=True)
    for error in exc.errors:
        where = f"row {error.row}, " if error.row is not None else ""
        click.echo(f"  {where}{error.field}: {error.reason}", err=True)
    total = exc.extra.get("error_count", len(exc.errors))
    if total > len(exc.errors):
        click.echo(f"  … and {total - len(exc.errors)} more", err=True)
    sys.exit(2)
