"""``flask maintenance purge``: delete expired rows and audit events past retention."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..admin import maintenance

maintenance_cli = AppGroup("maintenance", help="Housekeeping (run purge from cron, e.g. hourly).")


@maintenance_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@click.option("--json", "as_json", is_flag=True)
def maintenance_purge(dry_run, as_json):
    """Delete expired codes, drafts, sessions, tokens and old audit events."""
    counts = maintenance.purge(dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "deleted": counts,
                               "skipped": not counts}))
        return
    if not counts:
        click.echo("skipped: another instance is purging now")
    verb = "would delete" if dry_run else "deleted"
    for name, count in counts.items():
        click.echo(f"{name}: {verb} {count}")
