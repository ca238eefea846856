"""``flask sms outbox``: read the messages the outbox gateway stored (development)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import settings
from ..identity.jalali import TEHRAN
from ..sms.outbox import latest
from ..text import normalize_mobile

sms_cli = AppGroup("sms", help="SMS messages (the outbox gateway).")


@sms_cli.command("outbox")
@click.option("--to", "mobile", default=None, help="Only messages to this mobile (any form).")
@click.option("--limit", default=10, show_default=True, help="How many messages.")
def sms_outbox(mobile, limit):
    """Print the latest messages, newest first (time in Tehran)."""
    canonical = None
    if mobile:
        canonical = normalize_mobile(mobile)
        if canonical is None:
            raise click.ClickException(f"not an Iranian mobile number: {mobile}")
    if settings.current().sms_backend != "outbox":
        click.echo("note: SMS_BACKEND is not 'outbox'; new messages are not stored", err=True)
    messages = latest(canonical, limit)
    if not messages:
        click.echo("no messages")
    for message in messages:
        when = message.created_at.astimezone(TEHRAN).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"--- {when}  to {message.mobile}  ({message.template or '-'})")
        click.echo(message.text)
