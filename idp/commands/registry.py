"""``flask registry``: the local civil registry used in development and tests."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..extensions import db
from ..identity.seed import synthetic_records
from ..models import RegistryRecord

registry_cli = AppGroup("registry", help="The local civil registry (development and tests).")


@registry_cli.command("seed")
@click.option("--count", default=20, show_default=True)
@click.option("--seed", "seed_value", default=0, show_default=True, help="Random seed.")
def registry_seed(count, seed_value):
    """Add COUNT synthetic citizens and foreign nationals to the local registry."""
    added = seed_registry(count, seed_value)
    click.echo(f"added {added} registry records")


def seed_registry(count: int, seed_value: int) -> int:
    existing = set(db.session.scalars(select(RegistryRecord.id_code)))
    fresh = [r for r in synthetic_records(count, seed_value) if r["id_code"] not in existing]
    db.session.add_all(RegistryRecord(**r) for r in fresh)
    db.session.commit()
    return len(fresh)


@registry_cli.command("show")
@click.argument("code")
def registry_show(code):
    """Print the registry record of a national or FIDA code."""
    record = db.session.scalar(select(RegistryRecord).where(RegistryRecord.id_code == code))
    if record is None:
        raise click.ClickException(f"no registry record for {code}")
    for name in ("id_type", "id_code", "first_name", "last_name", "father_name",
                 "certificate_number", "birth_date", "gender", "mobile", "is_deceased"):
        click.echo(f"{name}: {getattr(record, name)}")
