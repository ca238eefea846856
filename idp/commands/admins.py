"""``flask users grant-admin|revoke-admin``: who may open the admin pages (CLI only)."""

from __future__ import annotations

import click

from ..admin import admins
from ..errors import DomainError
from .output import failure
from .users import users_cli


@users_cli.command("grant-admin")
@click.argument("code")
@click.option("--reset-totp", is_flag=True,
              help="Forget the admin's TOTP and recovery codes (lost phone): enrol again.")
def users_grant_admin(code, reset_totp):
    """Make the account of national/FIDA CODE an admin (TOTP enrolment at next sign-in)."""
    try:
        user = admins.grant_admin(code, reset_totp=reset_totp)
    except DomainError as e:
        raise failure(e) from e
    click.echo(f"{user.id_code} is an admin" + (" (TOTP reset)" if reset_totp else ""))


@users_cli.command("revoke-admin")
@click.argument("code")
def users_revoke_admin(code):
    """Take the admin role from CODE; its TOTP is forgotten and admin sessions end."""
    try:
        user = admins.revoke_admin(code)
    except DomainError as e:
        raise failure(e) from e
    click.echo(f"{user.id_code} is no longer an admin")
