"""``flask oidc``: back-channel logout delivery and housekeeping of protocol rows."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..oidc import logout, storage

oidc_cli = AppGroup("oidc", help="OpenID provider: logout delivery, cleanup.")


@oidc_cli.command("deliver-logouts")
def deliver_logouts():
    """Send due back-channel logout tokens again (run every minute from cron)."""
    delivered, failed = logout.deliver()
    click.echo(f"delivered {delivered}, failed {failed}")


@oidc_cli.command("cleanup")
def cleanup():
    """Delete expired codes, tokens, parked requests and client-assertion ids."""
    for table, count in storage.purge_expired().items():
        click.echo(f"{table}: {count} deleted")
