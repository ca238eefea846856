"""``flask clients create``: registering a portal before the admin pages exist."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import RSAKey

from idp.clients.credentials import secret_matches
from idp.extensions import db
from idp.models import Client


def create(runner, *args):
    return runner.invoke(args=["clients", "create", "--name", "پورتال آزمایشی", *args])


def test_every_flag_reaches_the_stored_client(app, runner):
    """--json prints the id, the one-time secret and the stored metadata."""
    result = create(runner, "--type", "confidential", "--redirect-uri", "https://a.example.ir/cb",
                    "--redirect-uri", "https://a.example.ir/cb2",
                    "--post-logout-redirect-uri", "https://a.example.ir/bye",
                    "--grant-type", "authorization_code", "--grant-type", "refresh_token",
                    "--scope", "openid profile national_id", "--auth-method", "client_secret_post",
                    "--first-party", "--backchannel-logout-uri", "https://a.example.ir/bc",
                    "--id-token-alg", "ES256", "--pairwise", "--access-token-ttl", "120",
                    "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    stored = db.session.scalar(db.select(Client).where(Client.client_id == data["client_id"]))
    assert secret_matches(stored, data["client_secret"])
    assert stored.secret_hash != data["client_secret"]
    assert data["redirect_uris"] == ["https://a.example.ir/cb", "https://a.example.ir/cb2"]
    assert data["post_logout_redirect_uris"] == ["https://a.example.ir/bye"]
    assert data["grant_types"] == ["authorization_code", "refresh_token"]
    assert data["scope"] == "openid profile national_id"
    assert data["token_endpoint_auth_method"] == "client_secret_post"
    assert data["first_party"] is True and data["subject_type"] == "pairwise"
    assert data["sector_identifier"] == "a.example.ir"
    assert data["backchannel_logout_uri"] == "https://a.example.ir/bc"
    assert data["id_token_signed_response_alg"] == "ES256" and data["access_token_ttl"] == 120


def test_public_and_service_clients(app, runner):
    public = create(runner, "--type", "public", "--redirect-uri", "ir.example.app:/cb", "--json")
    data = json.loads(public.output)
    assert data["client_secret"] is None and data["token_endpoint_auth_method"] == "none"
    service = create(runner, "--type", "service", "--json")
    data = json.loads(service.output)
    assert data["grant_types"] == ["client_credentials"] and data["client_secret"]


def test_private_key_jwt_client_from_a_jwks_file(app, runner, tmp_path):
    key = RSAKey.generate_key(2048, {"alg": "RS256", "kid": "k1"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    result = create(runner, "--redirect-uri", "https://a.example.ir/cb",
                    "--auth-method", "private_key_jwt", "--jwks", str(path), "--json")
    data = json.loads(result.output)
    assert data["client_secret"] is None and data["jwks"]["keys"][0]["kid"] == "k1"
    missing = create(runner, "--redirect-uri", "https://a.example.ir/cb",
                     "--auth-method", "private_key_jwt")
    assert missing.exit_code != 0 and "jwks" in missing.output


@pytest.mark.parametrize("uri", ["http://rp.example.ir/cb", "https://rp.example.ir/*",
                                 "javascript:alert(1)"])
def test_unsafe_redirect_uris_are_refused(app, runner, uri):
    result = create(runner, "--redirect-uri", uri)
    assert result.exit_code != 0 and "redirect_uri" in result.output


def test_loopback_http_only_outside_production(app, runner, configure):
    """http://127.0.0.1 works in development; production turns OIDC_ALLOW_HTTP_LOOPBACK off."""
    assert create(runner, "--redirect-uri", "http://127.0.0.1:8001/cb").exit_code == 0
    configure(OIDC_ALLOW_HTTP_LOOPBACK=False)  # what settings.load does in production
    result = create(runner, "--redirect-uri", "http://localhost:8001/cb")
    assert result.exit_code != 0 and "redirect_uri_not_https" in result.output
