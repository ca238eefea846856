"""``flask oidc``: back-channel logout delivery (expired rows: ``flask maintenance purge``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from ..oidc import logout

oidc_cli = AppGroup("oidc", help="OpenID provider: back-channel logout delivery.")


@oidc_cli.command("deliver-logouts")
def deliver_logouts():
    """Send due back-channel logout tokens again (run every minute from cron)."""
    delivered, failed = logout.deliver()
    click.echo(f"delivered {delivered}, failed {failed}")
