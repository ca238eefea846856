"""Signing keys: generation, the CLI life cycle and what the JWKS publishes at each stage."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.oidc.keys import KeyStore

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def jwks(client):
    response = client.get("/jwks.json")
    assert response.status_code == 200
    return response.json["keys"]


def kids(client):
    return [k["kid"] for k in jwks(client)]


def test_first_start_generates_rs256_and_es256(make_app, tmp_path):
    """An empty KEYS_DIR gets one RSA-2048 and one P-256 key, files mode 0600."""
    keys_dir = tmp_path / "fresh"
    app = make_app(KEYS_DIR=str(keys_dir))
    published = jwks(app.test_client())
    assert sorted(k["alg"] for k in published) == ["ES256", "RS256"]
    rsa = next(k for k in published if k["alg"] == "RS256")
    assert len(rsa["n"]) == 342  # 2048-bit modulus, base64url
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for key in published:
        pem = keys_dir / f"{key['kid']}.pem"
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
        assert key["kid"] == KeySet.import_key_set({"keys": [key]}).keys[0].thumbprint()


def test_jwks_has_no_private_members_and_caches(client):
    response = client.get("/jwks.json")
    assert all(not PRIVATE_MEMBERS & set(key) for key in response.json["keys"])
    assert "max-age=300" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = client.get("/jwks.json", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_rotation_publishes_first_then_signs(app, client, runner, clock):
    """rotate: the new key is published at once but signs only after the delay."""
    store = app.extensions["idp.keys"]
    old = store.signing_key("RS256", clock.now()).kid
    result = runner.invoke(args=["keys", "rotate", "--alg", "RS256", "--delay", "3600"])
    assert result.exit_code == 0, result.output
    new = next(r.kid for r in store.records() if r.kid not in (old,) and r.alg == "RS256")
    assert new in kids(client) and old in kids(client)
    assert store.signing_key("RS256", clock.now()).kid == old
    clock.advance(3601)
    assert store.signing_key("RS256", clock.now()).kid == new
    states = dict((r.kid, s) for r, s in store.listing(clock.now()))
    assert states[old] == "previous" and states[new] == "current"


def test_retire_unpublishes_after_longest_token_lifetime(app, client, runner, clock):
    """retire keeps the key in the JWKS until every token it signed has expired."""
    store = app.extensions["idp.keys"]
    old = store.signing_key("RS256", clock.now()).kid
    refused = runner.invoke(args=["keys", "retire", "--", old])
    assert refused.exit_code != 0 and "only active" in refused.output
    runner.invoke(args=["keys", "rotate", "--alg", "RS256", "--delay", "0"])
    assert runner.invoke(args=["keys", "retire", "--", old]).exit_code == 0
    assert old in kids(client)
    clock.advance(max(app.config["OIDC_ID_TOKEN_TTL"], app.config["OIDC_ACCESS_TOKEN_TTL"]) + 1)
    assert old not in kids(client)
    assert "RS256" in [k["alg"] for k in jwks(client)]
    assert runner.invoke(args=["keys", "purge"]).output.strip() == f"deleted {old}"
    assert not (Path(app.config["KEYS_DIR"]) / f"{old}.pem").exists()
    listing = runner.invoke(args=["keys", "list"]).output
    assert old not in listing


def test_token_signed_by_previous_key_verifies_after_rotation(app, client, runner, clock):
    """A token signed before `flask keys rotate` still verifies through the JWKS."""
    store = app.extensions["idp.keys"]
    key = store.signing_key("RS256", clock.now())
    token = jwt.encode({"alg": "RS256", "kid": key.kid}, {"sub": "x"}, key)
    runner.invoke(args=["keys", "rotate", "--delay", "0"])
    clock.advance(1)
    assert store.signing_key("RS256", clock.now()).kid != key.kid
    published = KeySet.import_key_set(client.get("/jwks.json").json)
    assert jwt.decode(token, published).claims == {"sub": "x"}


def test_passphrase_encrypts_pem_files(tmp_path, clock):
    store = KeyStore(tmp_path, passphrase="correct horse")
    created = store.ensure(clock.now())
    pem = (tmp_path / f"{created[0].kid}.pem").read_bytes()
    assert b"ENCRYPTED" in pem
    assert KeyStore(tmp_path, passphrase="correct horse").signing_key("RS256", clock.now())
    with pytest.raises(ValueError):
        KeyStore(tmp_path, passphrase="wrong").signing_key("RS256", clock.now())


def test_other_instance_sees_rotation(tmp_path, clock):
    """Two processes sharing KEYS_DIR agree: the manifest is re-read when it changes."""
    first, second = KeyStore(tmp_path), KeyStore(tmp_path)
    first.ensure(clock.now())
    assert len(second.records()) == 2
    first.rotate(clock.now(), ["ES256"], delay=0)
    assert len(second.records()) == 3
    assert json.loads((tmp_path / "keys.json").read_text())["keys"][2]["alg"] == "ES256"
