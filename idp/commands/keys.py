"""``flask keys``: list, rotate, retire and purge the signing keys.

Production refuses to start without signing keys, so the command that makes the first
ones cannot load the app the usual way. ``pyproject.toml`` declares this group a
``flask.commands`` plugin: the ``flask`` command finds it without loading the app, and the
group then has its commands load the app with ``create_app(require_keys=False)``.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo

from .. import settings
from ..extensions import now
from ..oidc.keys import ALGORITHMS, KeyError_


def _load_app_without_keys() -> None:
    # Under app.test_cli_runner(), or a ScriptInfo given a factory, that factory stands.
    info = click.get_current_context().ensure_object(ScriptInfo)
    if info.create_app is None:
        from .. import create_app

        info.create_app = lambda: create_app(require_keys=False)


keys_cli = AppGroup("keys", help="Signing keys: list, rotate, retire, purge.",
                    callback=_load_app_without_keys)


def _keystore():
    return current_app.extensions["idp.keys"]


def _longest_token_ttl() -> int:
    cfg = settings.current()
    return max(cfg.oidc_id_token_ttl, cfg.oidc_access_token_ttl)


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
