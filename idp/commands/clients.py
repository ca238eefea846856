"""``flask clients``: register and list client applications (portals)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..admin import services as clients_service
from ..errors import DomainError
from ..extensions import db
from ..models import Client

clients_cli = AppGroup("clients", help="Client applications (portals).")


@clients_cli.command("create")
@click.option("--name", required=True, help="Name shown to citizens (Persian).")
@click.option("--name-en", default="")
@click.option("--type", "client_type", type=click.Choice(["confidential", "public", "service"]),
              default="confidential", show_default=True)
@click.option("--client-id", default=None, help="Fix the client_id (default: random).")
@click.option("--redirect-uri", multiple=True)
@click.option("--post-logout-redirect-uri", multiple=True)
@click.option("--grant-type", multiple=True)
@click.option("--scope", default="openid profile", show_default=True)
@click.option("--auth-method", default=None)
@click.option("--jwks-uri", default=None)
@click.option("--first-party", is_flag=True)
@click.option("--pairwise", is_flag=True, help="Give this client pairwise subjects.")
@click.option("--resource-server", is_flag=True, help="May introspect any token.")
@click.option("--backchannel-logout-uri", default=None)
@click.option("--id-token-alg", default="RS256", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def clients_create(name, name_en, client_type, client_id, redirect_uri, post_logout_redirect_uri,
                   grant_type, scope, auth_method, jwks_uri, first_party, pairwise,
                   resource_server, backchannel_logout_uri, id_token_alg, as_json):
    """Register a client; its secret is printed this once."""
    spec = clients_service.ClientSpec(
        name_fa=name, name_en=name_en, client_type=client_type, client_id=client_id,
        redirect_uris=list(redirect_uri), post_logout_redirect_uris=list(post_logout_redirect_uri),
        grant_types=list(grant_type), scope=scope, token_endpoint_auth_method=auth_method,
        jwks_uri=jwks_uri, first_party=first_party, is_resource_server=resource_server,
        subject_type="pairwise" if pairwise else "public",
        backchannel_logout_uri=backchannel_logout_uri, id_token_signed_response_alg=id_token_alg)
    try:
        client, secret = clients_service.register_client(spec)
    except DomainError as e:
        raise click.ClickException(f"{e.code} ({e.field}) {e.params or ''}".strip()) from e
    data = {**clients_service.client_summary(client), "client_secret": secret}
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(f"client_id:     {client.client_id}")
        click.echo(f"client_secret: {secret or '(none: public client)'}  <- shown only now")


@clients_cli.command("list")
def clients_list():
    """Print every client: id, type, state and name."""
    for client in db.session.scalars(select(Client).order_by(Client.id)):
        state = "enabled" if client.enabled else "disabled"
        click.echo(f"{client.client_id}  {client.client_type}  {state}  {client.name_fa}")
