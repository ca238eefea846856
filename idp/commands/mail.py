"""``flask mail outbox`` (read the stored messages) and ``flask mail deliver`` (send the
pending ones with ``MAIL_BACKEND=smtp``)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .. import mail, settings
from ..identity.jalali import TEHRAN
from ..mail.outbox import latest
from ..text import normalize_email

mail_cli = AppGroup("mail", help="Mail messages (the outbox and SMTP delivery).")


@mail_cli.command("outbox")
@click.option("--to", "recipient", default=None, help="Only messages to this address.")
@click.option("--limit", default=10, show_default=True, help="How many messages.")
def mail_outbox(recipient, limit):
    """Print the latest messages, newest first (time in Tehran)."""
    messages = latest(normalize_email(recipient) if recipient else None, limit)
    if not messages:
        click.echo("no messages")
    for message in messages:
        when = message.created_at.astimezone(TEHRAN).strftime("%Y-%m-%d %H:%M:%S")
        state = "sent" if message.sent_at else (
            f"pending, {message.attempts} attempts" if settings.current().mail_backend == "smtp"
            else "stored")
        click.echo(f"--- {when}  to {message.recipient}  ({message.template or '-'}; {state})")
        click.echo(f"Subject: {message.subject}")
        click.echo(message.text)


@mail_cli.command("deliver")
def mail_deliver():
    """Send the pending messages once (MAIL_BACKEND=smtp; run from cron or the worker)."""
    if settings.current().mail_backend != "smtp":
        raise click.ClickException("MAIL_BACKEND is not 'smtp': messages are only stored")
    sent, failed = mail.deliver_pending()
    click.echo(f"sent {sent}, failed {failed}")
