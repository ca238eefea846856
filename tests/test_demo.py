"""`flask demo seed`: registry citizens, the two demo portals and a demo account."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from idp.clients.credentials import secret_matches
from idp.clients.service import get_client
from idp.extensions import db
from idp.models import RegistryRecord, User

from .factories import PRODUCTION_ADAPTERS, PRODUCTION_HASH_KEY, PRODUCTION_SECRET_KEY


def test_demo_seed_is_idempotent_and_usable(app, runner, client):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    secrets = dict(re.findall(r"Demo client (\w+): client_secret=(\S+)", first.output))
    assert set(secrets) == {"eservices", "profile"}
    for client_id, secret in secrets.items():
        assert secret_matches(get_client(client_id), secret)
    again = runner.invoke(args=["demo", "seed"])
    assert dict(re.findall(r"Demo client (\w+): client_secret=(\S+)", again.output)) == secrets
    assert db.session.scalar(select(func.count(RegistryRecord.id))) == 10
    assert db.session.scalar(select(func.count(User.id))) == 1

    code, password = re.search(r"national code (\d+), password (\S+)", first.output).groups()
    response = client.post("/login", data={"id_code": code, "password": password})
    assert response.status_code == 302  # signed in: redirected to the account page


class TestProduction:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "ENV": "production", "SECRET_KEY": PRODUCTION_SECRET_KEY,
                "HASH_KEY": PRODUCTION_HASH_KEY, **PRODUCTION_ADAPTERS}

    def test_demo_seed_refused_in_production(self, runner):
        """No demo citizens, portals or account in production."""
        result = runner.invoke(args=["demo", "seed"])
        assert result.exit_code != 0 and "refused in production" in result.output
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_demo_portals_follow_their_base_url(app, runner):
    """make demo / make e2e run the portals on other ports: the clients follow them."""
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    client = get_client("eservices")
    assert client.redirect_uris == ["http://127.0.0.1:5001/callback"]
    moved = runner.invoke(args=["demo", "seed", "--portal", "eservices=http://127.0.0.1:18511"])
    assert moved.exit_code == 0, moved.output
    db.session.expire_all()
    client = get_client("eservices")
    assert client.redirect_uris == ["http://127.0.0.1:18511/callback"]
    assert client.post_logout_redirect_uris == ["http://127.0.0.1:18511/"]
    assert client.backchannel_logout_uri == "http://127.0.0.1:18511/backchannel-logout"
    secret = re.search(r"Demo client eservices: client_secret=(\S+)", moved.output)[1]
    assert secret_matches(client, secret)
    assert get_client("profile").redirect_uris == ["http://127.0.0.1:5002/callback"]
    refused = runner.invoke(args=["demo", "seed", "--portal", "bank=http://127.0.0.1:1"])
    assert refused.exit_code != 0 and "--portal" in refused.output
