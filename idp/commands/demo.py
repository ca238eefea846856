"""``flask demo seed``: demo registry citizens and the two demo portals (development only)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .. import settings
from ..accounts.provisioning import create_from_registry, first_record_without_account
from ..clients import service as clients_service
from ..clients.spec import ClientSpec
from ..extensions import db
from ..models import Client, RegistryRecord, User
from ..unit_of_work import unit_of_work
from .registry import seed_registry

demo_cli = AppGroup("demo", help="Demo data for a development IdP.")


#: The demo portals (examples/portal, ``make demo``): client id, names, default base URL.
DEMO_CLIENTS = [
    ("eservices", "خدمات غیرحضوری", "e-services", "http://127.0.0.1:5001"),
    ("profile", "پروفایل", "profile", "http://127.0.0.1:5002"),
]


@demo_cli.command("seed")
@click.option("--portal", "portals", multiple=True, metavar="CLIENT_ID=BASE_URL",
              help="Where a demo portal runs (default eservices=http://127.0.0.1:5001, "
                   "profile=http://127.0.0.1:5002); its redirect URIs follow.")
def demo_seed(portals):
    """Seed the registry and the demo portals; print how to use them (development only)."""
    if settings.current().env == "production":
        raise click.ClickException("demo data is refused in production")
    if not db.session.scalar(select(func.count(RegistryRecord.id))):
        seed_registry(10, 1403)
    credentials_file = Path(current_app.instance_path) / "demo-clients.json"
    saved = json.loads(credentials_file.read_text()) if credentials_file.exists() else {}
    bases = {client_id: base for client_id, *_, base in DEMO_CLIENTS}
    for item in portals:
        client_id, _, base = item.partition("=")
        if client_id not in bases or not base.startswith("http"):
            raise click.BadParameter(f"expected eservices=URL or profile=URL, got {item!r}",
                                     param_hint="--portal")
        bases[client_id] = base.rstrip("/")
    for client_id, name_fa, name_en, _ in DEMO_CLIENTS:
        base = bases[client_id]
        row = db.session.scalar(select(Client).where(Client.client_id == client_id))
        if row is not None and client_id in saved and row.redirect_uris == [f"{base}/callback"]:
            continue
        with unit_of_work():  # a lost secret or a moved portal: the client is registered again
            if row is not None:
                db.session.execute(Client.__table__.delete()
                                   .where(Client.client_id == client_id))
            _, secret = clients_service.register_client(ClientSpec(
                client_id=client_id, name_fa=name_fa, name_en=name_en, first_party=True,
                scope="openid profile email phone national_id",
                redirect_uris=[f"{base}/callback"], post_logout_redirect_uris=[f"{base}/"],
                backchannel_logout_uri=f"{base}/backchannel-logout"))
        saved[client_id] = secret
    fd = os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(saved, f)
    issuer = settings.current().issuer
    click.echo(f"Issuer: {issuer}  (discovery: {issuer}/.well-known/openid-configuration)")
    for client_id, *_ in DEMO_CLIENTS:
        click.echo(f"Demo client {client_id}: client_secret={saved[client_id]} "
                   f"redirect_uri={bases[client_id]}/callback")
    citizen = _demo_citizen()
    click.echo(f"Demo citizen (sign in at {issuer}/login): national code {citizen.id_code}, "
               f"password {DEMO_PASSWORD}")
    free = db.session.scalars(select(RegistryRecord).where(
        RegistryRecord.id_code != citizen.id_code).limit(3))
    click.echo("Registry citizens without an account (register them at /register, the SMS "
               "codes are in 'flask sms outbox'): "
               + ", ".join(f"{r.id_code}/{r.mobile}" for r in free))


DEMO_PASSWORD = "Tamin1403Demo"  # passes the password rules; development data only


def _demo_citizen() -> User:
    """Return the demo account, creating it from the first registry record once."""
    user = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if user is None:
        record = first_record_without_account()
        user = create_from_registry(record.id_code, DEMO_PASSWORD, email=DEMO_EMAIL,
                                    source="demo")
    return user


DEMO_EMAIL = "demo.citizen@example.ir"
