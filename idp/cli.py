"""Operator commands (``flask keys|registry|clients|demo …``). They call services only."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .admin import services as clients_service
from .errors import DomainError
from .extensions import db, now
from .identity.seed import synthetic_records
from .models import Client, RegistryRecord
from .oidc.keys import ALGORITHMS, KeyError_

keys_cli = AppGroup("keys", help="Signing keys: list, rotate, retire, purge.")
registry_cli = AppGroup("registry", help="The local civil registry (development and tests).")
clients_cli = AppGroup("clients", help="Client applications (portals).")
demo_cli = AppGroup("demo", help="Demo data for a development IdP.")


def _keystore():
    return current_app.extensions["idp.keys"]


def _longest_token_ttl() -> int:
    cfg = current_app.config
    return max(cfg["OIDC_ID_TOKEN_TTL"], cfg["OIDC_ACCESS_TOKEN_TTL"])


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


@registry_cli.command("seed")
@click.option("--count", default=20, show_default=True)
@click.option("--seed", "seed_value", default=0, show_default=True, help="Random seed.")
def registry_seed(count, seed_value):
    """Add COUNT synthetic citizens and foreign nationals to the local registry."""
    added = _seed_registry(count, seed_value)
    click.echo(f"added {added} registry records")


def _seed_registry(count: int, seed_value: int) -> int:
    existing = set(db.session.scalars(select(RegistryRecord.id_code)))
    fresh = [r for r in synthetic_records(count, seed_value) if r["id_code"] not in existing]
    db.session.add_all(RegistryRecord(**r) for r in fresh)
    db.session.commit()
    return len(fresh)


@registry_cli.command("show")
@click.argument("code")
def registry_show(code):
    """Print the registry record of a national or FIDA code."""
    record = db.session.scalar(select(RegistryRecord).where(RegistryRecord.id_code == code))
    if record is None:
        raise click.ClickException(f"no registry record for {code}")
    for name in ("id_type", "id_code", "first_name", "last_name", "father_name",
                 "certificate_number", "birth_date", "gender", "mobile", "is_deceased"):
        click.echo(f"{name}: {getattr(record, name)}")


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


DEMO_CLIENTS = [
    ("eservices", "سرویس‌های غیرحضوری", "e-services", 8001),
    ("profile", "پروفایل", "profile", 8002),
]


@demo_cli.command("seed")
def demo_seed():
    """Seed the registry and the demo portals; print how to use them (development only)."""
    if current_app.config["ENV"] == "production":
        raise click.ClickException("demo data is refused in production")
    if not db.session.scalar(select(func.count(RegistryRecord.id))):
        _seed_registry(10, 1403)
    credentials_file = Path(current_app.instance_path) / "demo-clients.json"
    saved = json.loads(credentials_file.read_text()) if credentials_file.exists() else {}
    for client_id, name_fa, name_en, port in DEMO_CLIENTS:
        exists = db.session.scalar(select(Client.id).where(Client.client_id == client_id))
        if exists and client_id in saved:
            continue
        if exists:
            db.session.execute(Client.__table__.delete().where(Client.client_id == client_id))
        base = f"http://127.0.0.1:{port}"
        _, secret = clients_service.register_client(clients_service.ClientSpec(
            client_id=client_id, name_fa=name_fa, name_en=name_en, first_party=True,
            scope="openid profile email phone national_id",
            redirect_uris=[f"{base}/callback"], post_logout_redirect_uris=[f"{base}/"],
            backchannel_logout_uri=f"{base}/backchannel-logout"))
        saved[client_id] = secret
    fd = os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(saved, f)
    issuer = current_app.config["ISSUER"]
    click.echo(f"Issuer: {issuer}  (discovery: {issuer}/.well-known/openid-configuration)")
    for client_id, *_rest, port in DEMO_CLIENTS:
        click.echo(f"Demo client {client_id}: client_secret={saved[client_id]} "
                   f"redirect_uri=http://127.0.0.1:{port}/callback")
    sample = db.session.scalars(select(RegistryRecord).limit(3))
    click.echo("Registry citizens (register them at /register): "
               + ", ".join(f"{r.id_code}/{r.mobile}" for r in sample))


def init_app(app) -> None:
    for group in (keys_cli, registry_cli, clients_cli, demo_cli):
        app.cli.add_command(group)
