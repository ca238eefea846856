"""``flask clients initial-token``: initial access tokens for dynamic client registration.

The same service as the admin page (:mod:`idp.clients.dcr`), so the CLI and the page
issue, list and revoke tokens under one set of rules and audit events.
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from ..clients import dcr
from ..errors import DomainError
from .clients import clients_cli
from .output import echo_json, failure

initial_token_cli = AppGroup("initial-token",
                             help="Initial access tokens for dynamic client registration.")
clients_cli.add_command(initial_token_cli)


@initial_token_cli.command("create")
@click.option("--label", required=True, help="Who the token is for (shown in the lists).")
@click.option("--uses", type=int, default=1, show_default=True,
              help="How many clients it may register.")
@click.option("--ttl", type=int, default=None,
              help="Lifetime in seconds (default DCR_TOKEN_TTL; 1 hour to 1 year).")
@click.option("--json", "as_json", is_flag=True)
def create(label, uses, ttl, as_json):
    """Issue a token; it is printed only now (only its hash is stored)."""
    try:
        row, raw = dcr.issue_initial_token(label, ttl=ttl, max_uses=uses)
    except DomainError as e:
        raise failure(e) from e
    if not dcr.enabled():
        click.echo("warning: DCR_ENABLED is off; the token works once it is on", err=True)
    data = {"token": raw, "expires_at": row.expires_at.isoformat(), "uses": row.max_uses,
            "id": row.id, "label": row.label}
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for name in ("id", "label", "expires_at", "uses"):
        click.echo(f"{name}: {data[name]}")
    click.echo(f"token: {raw}  <- shown only now")


@initial_token_cli.command("list")
@click.option("--json", "as_json", is_flag=True)
def list_tokens(as_json):
    """Print every token: id, state, uses, expiry and label (never the token)."""
    rows = [{"id": r.id, "label": r.label, "state": dcr.token_state(r), "uses": r.uses,
             "max_uses": r.max_uses, "created_at": r.created_at.isoformat(),
             "expires_at": r.expires_at.isoformat()} for r in dcr.list_initial_tokens()]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['id']}  {r['state']}  {r['uses']}/{r['max_uses']}  "
                   f"{r['expires_at']}  {r['label']}")


@initial_token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id):
    """Revoke a token by its id (see ``list``); clients it registered stay."""
    try:
        dcr.revoke_initial_token(token_id)
    except DomainError as e:
        raise failure(e) from e
    click.echo(f"revoked {token_id}")
