"""``flask users``: create citizen accounts from the registry, show, lock and unlock them."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..accounts import provisioning, signin
from ..admin import support
from ..errors import DomainError
from ..extensions import db, now
from ..messages import message
from ..models import SsoSession
from ..text import normalize_digits

users_cli = AppGroup("users", help="Citizen accounts (operators and automated tests).")


def _fail(error: DomainError):
    codes = error.params.get("codes") or [error.code]
    lines = [f"{code}: {message(code)}" for code in codes]
    return click.ClickException("\n".join(lines))


def _account(code: str):
    user = signin.find_user(normalize_digits(code))
    if user is None:
        raise click.ClickException(f"no account for {code}")
    return user


@users_cli.command("create")
@click.argument("code", required=False)
@click.option("--from-registry", is_flag=True,
              help="Use the first local registry record that has no account yet.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--password", default=None, help="The password (visible in the process list).")
@click.option("--email", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print code, mobile and user id as JSON.")
def users_create(code, from_registry, password_stdin, password, email, as_json):
    """Create an account for the civil-registry record of CODE.

    The registry match and the password rules are those of the registration wizard; no
    SMS code is asked.
    """
    if bool(code) == from_registry:
        raise click.UsageError("give either CODE or --from-registry")
    if password_stdin == (password is not None):
        raise click.UsageError("give either --password-stdin or --password")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if from_registry:
        row = provisioning.first_record_without_account()
        if row is None:
            raise click.ClickException("every registry record already has an account")
        code = row.id_code
    try:
        user = provisioning.create_from_registry(normalize_digits(code), password, email=email)
    except DomainError as e:
        raise _fail(e) from e
    data = {"id_type": user.id_type, "id_code": user.id_code, "mobile": user.mobile,
            "user_id": user.id}
    if as_json:
        click.echo(json.dumps(data))
    else:
        click.echo(f"created account {user.id} for {user.id_code} (mobile {user.mobile})")


@users_cli.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
def users_show(code, as_json):
    """Print the account of a national or FIDA code (never its password hash)."""
    user = _account(code)
    live = db.session.scalar(select(func.count(SsoSession.id)).where(
        SsoSession.user_id == user.id, SsoSession.ended_at.is_(None),
        SsoSession.expires_at > now()))
    data = {
        "user_id": user.id, "subject": user.subject, "id_type": user.id_type,
        "id_code": user.id_code, "name": user.full_name, "mobile": user.mobile,
        "email": user.email, "status": user.status,
        "temporarily_locked_until": user.locked_until.isoformat()
        if user.locked_until and user.locked_until > now() else None,
        "failed_logins": user.failed_logins,
        "must_change_password": user.must_change_password,
        "created_at": user.created_at.isoformat(),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
        "live_sessions": live,
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


@users_cli.command("lock")
@click.argument("code")
def users_lock(code):
    """Lock an account until it is unlocked, and end its sessions."""
    try:
        user = support.lock(_account(code).id, actor_id=None)
    except DomainError as e:
        raise _fail(e) from e
    click.echo(f"locked {user.id_code}")


@users_cli.command("unlock")
@click.argument("code")
def users_unlock(code):
    """Lift a lock, and the temporary lockout after wrong passwords."""
    try:
        user = support.unlock(_account(code).id, actor_id=None)
    except DomainError as e:
        raise _fail(e) from e
    click.echo(f"unlocked {user.id_code}")
