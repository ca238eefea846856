"""``flask registry``: the local civil registry used in development and tests."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..identity import jalali, records
from ..text import mobile_e164
from .output import echo_json

registry_cli = AppGroup("registry", help="The local civil registry (development and tests).")


@registry_cli.command("seed")
@click.option("--count", default=20, show_default=True)
@click.option("--seed", "seed_value", default=0, show_default=True, help="Random seed.")
def registry_seed(count, seed_value):
    """Add COUNT synthetic citizens and foreign nationals to the local registry."""
    added = seed_registry(count, seed_value)
    click.echo(f"added {added} registry records")


def seed_registry(count: int, seed_value: int) -> int:
    return records.seed(count, seed_value)


@registry_cli.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--replace", is_flag=True, help="Overwrite records whose code already exists.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows even when others are invalid.")
def registry_import(file, replace, skip_invalid):
    """Load records from FILE (CSV with a header row).

    Columns: id_type (national|fida, optional), id_code, first_name, last_name,
    father_name, certificate_number, birth_date (Jalali 1370/06/31 or ISO 1991-09-22),
    gender (male|female), mobile, is_deceased (optional). Persian digits are accepted.
    Without --skip-invalid, one bad row means nothing is imported.
    """
    report = records.import_csv(file, replace=replace, skip_invalid=skip_invalid)
    for error in report.errors[:50]:
        click.echo(f"error: {error}", err=True)
    if len(report.errors) > 50:
        click.echo(f"error: … and {len(report.errors) - 50} more", err=True)
    if report.errors and not skip_invalid:
        raise click.ClickException(f"{len(report.errors)} invalid rows; nothing imported")
    click.echo(f"added {report.added}, updated {report.updated}, "
               f"skipped {report.skipped} existing, {len(report.errors)} invalid")


@registry_cli.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the record as JSON.")
def registry_show(code, as_json):
    """Print the registry record of a national or FIDA code (any digits)."""
    record = records.find(code)
    if record is None:
        raise click.ClickException(f"no registry record for {code}")
    data = {name: getattr(record, name) for name in records.COLUMNS}
    data.update(birth_date=record.birth_date.isoformat(),
                birth_date_jalali=jalali.format_date(record.birth_date, persian_digits=False),
                mobile_e164=mobile_e164(record.mobile),
                created_at=record.created_at.isoformat() if record.created_at else None)
    if as_json:
        echo_json(data)
        return
    for name, value in data.items():
        click.echo(f"{name}: {value}")
