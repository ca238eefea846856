"""``flask clients initial-token create|list|revoke``: the same service as the admin page
(issue 9, finding 9)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, InitialAccessToken


@pytest.fixture
def app_config(app_config):
    return {**app_config, "DCR_ENABLED": True}


def cli(runner, *args):
    return runner.invoke(args=["clients", "initial-token", *args])


def test_create_prints_the_token_once_as_json(app, runner, client, clock):
    """create --json prints token, expiry and uses; the token registers a client."""
    result = cli(runner, "create", "--label", "وزارت رفاه", "--uses", "2", "--ttl", "7200",
                 "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"token", "expires_at", "uses"}
    assert data["uses"] == 2 and len(data["token"]) == 43
    expires = datetime.fromisoformat(data["expires_at"])
    assert int((expires - clock.now()).total_seconds()) == 7200
    row = db.session.scalar(select(InitialAccessToken))
    assert row.label == "وزارت رفاه" and row.max_uses == 2
    assert data["token"] not in row.token_hash
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.event == "dcr_token_issued"))
    response = client.post("/connect/register", headers={
        "Authorization": f"Bearer {data['token']}"}, json={
        "client_name": "Portal", "redirect_uris": ["https://p.example.ir/cb"]})
    assert response.status_code == 201, response.json


def test_list_and_revoke(app, runner, client):
    """list shows id, label, state and uses (never the token); revoke stops it."""
    token = json.loads(cli(runner, "create", "--label", "ministry", "--json").output)["token"]
    listing = cli(runner, "list", "--json")
    assert listing.exit_code == 0
    [row] = json.loads(listing.output)
    assert row["label"] == "ministry" and row["state"] == "active"
    assert row["uses"] == 0 and row["max_uses"] == 1 and token not in listing.output
    text = cli(runner, "list")
    assert "ministry" in text.output and "active" in text.output
    result = cli(runner, "revoke", str(row["id"]))
    assert result.exit_code == 0, result.output
    assert json.loads(cli(runner, "list", "--json").output)[0]["state"] == "revoked"
    response = client.post("/connect/register", headers={"Authorization": f"Bearer {token}"},
                           json={"client_name": "P", "redirect_uris": ["https://p.example.ir/cb"]})
    assert response.status_code == 401
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.event == "dcr_token_revoked"))


@pytest.mark.parametrize(("args", "code"), [
    (["--label", " "], "required"), (["--label", "x", "--ttl", "60"], "iat_ttl_invalid"),
    (["--label", "x", "--uses", "0"], "max_uses_invalid")])
def test_create_refuses_what_the_admin_page_refuses(app, runner, args, code):
    result = cli(runner, "create", *args)
    assert result.exit_code != 0 and code in result.output
    assert db.session.scalar(select(InitialAccessToken)) is None


def test_revoke_unknown_token(app, runner):
    result = cli(runner, "revoke", "999")
    assert result.exit_code != 0 and "iat_not_found" in result.output
