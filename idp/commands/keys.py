"""``flask keys``: list, rotate, retire and purge the signing keys."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import now
from ..oidc.keys import ALGORITHMS, KeyError_

keys_cli = AppGroup("keys", help="Signing keys: list, rotate, retire, purge.")


def _keystore():
    return current_app.extensions["idp.keys"]


def _longest_token_ttl() -> int:
    cfg = current_app.config
    return max(cfg["OIDC_ID_TOKEN_TTL"], cfg["OIDC_ACCESS_TOKEN_TTL"])


@keys_cli.command("list")
def keys_list():
    """Print every key with its algorithm and state."""
    for record, state in _keystore().listing(now()):
        click.echo(f"{record.kid}  {record.alg}  {state:9}  active from {record.activates_at}"
                   + (f"  unpublished at {record.retire_at}" if record.retire_at else ""))


@keys_cli.command("rotate")
@click.option("--alg", type=click.Choice(sorted(ALGORITHMS)), multiple=True,
              help="Rotate only this algorithm (repeatable); default: all.")
@click.option("--delay", type=int, default=None,
              help="Seconds before the new key signs (default KEYS_ROTATION_DELAY).")
def keys_rotate(alg, delay):
    """Add new keys: published at once, signing after the rotation delay."""
    for record in _keystore().rotate(now(), list(alg) or None, delay):
        click.echo(f"added {record.kid} ({record.alg}), signs from {record.activates_at}")


@keys_cli.command("retire")
@click.argument("kid")
def keys_retire(kid):
    """Stop publishing KID once every token it signed has expired."""
    try:
        record = _keystore().retire(kid, now(), _longest_token_ttl())
    except KeyError_ as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"{record.kid} leaves the JWKS at {record.retire_at}")


@keys_cli.command("purge")
def keys_purge():
    """Delete the files of keys whose retirement has passed."""
    for kid in _keystore().purge(now()):
        click.echo(f"deleted {kid}")
