"""Client ``jwks`` hold only public asymmetric keys that parse (issue 9, finding 7): the same
rule for DCR (POST and RFC 7592 PUT), the admin page, the CLI and keys loaded at token time
(registered or fetched from ``jwks_uri``); a private member is never echoed."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from sqlalchemy import func, select, update

from idp.clients import dcr
from idp.errors import DomainError
from idp.extensions import db
from idp.messages import message
from idp.models import Client

from .factories import make_portal, make_user

RSA_2048 = RSAKey.generate_key(2048, {"kid": "rsa"})
PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "k")


def b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public(key) -> dict:
    return key.as_dict(private=False)


BAD_JWKS = {
    "rsa_private": {"keys": [RSA_2048.as_dict(private=True)]},
    "ec_private": {"keys": [ECKey.generate_key("P-256").as_dict(private=True)]},
    "okp_private": {"keys": [OKPKey.generate_key("Ed25519").as_dict(private=True)]},
    "oct": {"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]},
    "rsa_malformed": {"keys": [{"kty": "RSA", "n": "x"}]},
    "rsa_bad_base64": {"keys": [{"kty": "RSA", "n": "!!!", "e": "AQAB"}]},
    "rsa_1024": {"keys": [{"kty": "RSA", "n": b64(rsa.generate_private_key(
        65537, 1024).public_key().public_numbers().n), "e": "AQAB"}]},  # noqa: S505
    "ec_not_on_curve": {"keys": [{**public(ECKey.generate_key("P-256")),
                                  "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]},
    "ec_secp256k1": {"keys": [{"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}]},
    "okp_x25519": {"keys": [public(OKPKey.generate_key("X25519"))]},
    "unknown_kty": {"keys": [{"kty": "PQC", "x": "AA"}]},
    "key_not_object": {"keys": ["RSA"]},
    "no_keys": {"keys": []},
}
GOOD_JWKS = {"keys": [public(RSA_2048), public(ECKey.generate_key("P-384")),
                      public(ECKey.generate_key("P-521")), public(OKPKey.generate_key("Ed25519"))]}

METADATA = {"client_name": "Ministry portal", "redirect_uris": ["https://portal.example.ir/cb"],
            "grant_types": ["authorization_code"], "response_types": ["code"],
            "scope": "openid", "token_endpoint_auth_method": "private_key_jwt"}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "DCR_ENABLED": True}


def register(client, jwks):
    token = dcr.issue_initial_token("robot", ttl=3600, max_uses=5)[1]
    return client.post("/connect/register", json={**METADATA, "jwks": jwks},
                       headers={"Authorization": f"Bearer {token}"})


def clients() -> int:
    return db.session.scalar(select(func.count(Client.id)))


@pytest.mark.parametrize("case", sorted(BAD_JWKS))
def test_dcr_refuses_keys_that_are_not_public_asymmetric(client, case):
    """Private members, symmetric and malformed keys → 400 invalid_client_metadata."""
    response = register(client, BAD_JWKS[case])
    assert response.status_code == 400, response.json
    assert response.json["error"] == "invalid_client_metadata"
    assert response.json["error_description"].startswith("jwks")
    assert not any(f'"{m}"' in response.get_data(as_text=True) for m in PRIVATE)
    assert clients() == 0


def test_dcr_accepts_public_rsa_ec_and_ed25519_keys(client):
    response = register(client, GOOD_JWKS)
    assert response.status_code == 201, response.json
    assert response.json["jwks"] == GOOD_JWKS


def test_dcr_update_refuses_private_keys(client):
    body = register(client, GOOD_JWKS).json
    client_id, token = body["client_id"], body["registration_access_token"]
    change = {**METADATA, "client_id": client_id, "jwks": BAD_JWKS["rsa_private"]}
    response = client.put(f"/connect/register/{client_id}", json=change,
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json["error"] == "invalid_client_metadata"
    assert '"d"' not in response.get_data(as_text=True)
    stored = db.session.scalar(select(Client))
    db.session.refresh(stored)
    assert stored.jwks == GOOD_JWKS


def test_a_stored_private_member_is_never_echoed(client):
    """A row stored before the rule (or by hand) still never shows its private members."""
    body = register(client, GOOD_JWKS).json
    client_id = body["client_id"]
    db.session.execute(update(Client).where(Client.client_id == client_id)
                       .values(jwks=BAD_JWKS["rsa_private"]))
    db.session.commit()
    read = client.get(f"/connect/register/{client_id}",
                      headers={"Authorization": f"Bearer {body['registration_access_token']}"})
    assert read.status_code == 200
    assert read.json["jwks"] == {"keys": [public(RSA_2048)]}


@pytest.mark.parametrize("case", ["rsa_private", "oct", "rsa_malformed"])
def test_admin_page_refuses_bad_keys_in_persian(client, auth, case):
    from .test_admin_clients_web import FORM

    auth.admin_session()
    data = {**FORM, "token_endpoint_auth_method": "private_key_jwt",
            "jwks": json.dumps(BAD_JWKS[case])}
    response = client.post("/admin/clients/new", data=data)
    page = response.get_data(as_text=True)
    code = {"rsa_private": "jwks_private_key", "oct": "jwks_symmetric_key",
            "rsa_malformed": "jwks_key_invalid"}[case]
    assert message(code) in page
    assert clients() == 0


@pytest.mark.parametrize("case", ["rsa_private", "oct", "rsa_1024"])
def test_cli_refuses_bad_keys_clearly(app, runner, tmp_path, case):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(BAD_JWKS[case]))
    result = runner.invoke(args=["clients", "create", "--name", "پورتال",
                                 "--redirect-uri", "https://a.example.ir/cb",
                                 "--auth-method", "private_key_jwt", "--jwks", str(path)])
    assert result.exit_code != 0
    assert "jwks" in result.output and "[jwks]" in result.output
    assert clients() == 0


def test_service_rule_names_the_field(app):
    from idp.clients.keys import check_jwks

    with pytest.raises(DomainError) as caught:
        check_jwks(BAD_JWKS["oct"])
    assert caught.value.field == "jwks" and caught.value.code == "jwks_symmetric_key"
    check_jwks(GOOD_JWKS)


TOKEN_URL = "http://localhost/oauth/token"


def assertion(key, alg, client_id, now):
    claims = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "jti": f"j-{now}",
              "iat": int(now), "exp": int(now) + 60}
    return jwt.encode({"alg": alg}, claims, key)


def exchange(oidc, rp, key, alg, clock):
    code, params = oidc.get_code(rp)
    return oidc.exchange(
        rp, None, code, params, client_id=rp.client_id,
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion=assertion(key, alg, rp.client_id, clock.now().timestamp()))


def test_a_stored_symmetric_key_never_authenticates(app, oidc, clock):
    """A symmetric key stored before the rule cannot sign an HS256 client assertion."""
    rp, _ = make_portal(first_party=True, token_endpoint_auth_method="private_key_jwt",
                        jwks={"keys": [public(RSA_2048)]})
    secret = OctKey.generate_key(256)
    db.session.execute(update(Client).where(Client.id == rp.id)
                       .values(jwks={"keys": [secret.as_dict(private=True)]}))
    db.session.commit()
    oidc.sign_in(make_user())
    response = exchange(oidc, rp, secret, "HS256", clock)
    assert response.status_code in (400, 401)
    assert response.json["error"] == "invalid_client"


class _JwksServer(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_keys_fetched_from_jwks_uri_follow_the_same_rule(app, oidc, clock):
    """A jwks_uri answering a symmetric key set is refused when the keys are loaded."""
    secret = OctKey.generate_key(256)
    _JwksServer.body = json.dumps({"keys": [secret.as_dict(private=True)]}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 18231), _JwksServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rp, _ = make_portal(first_party=True, token_endpoint_auth_method="private_key_jwt",
                            jwks_uri="http://127.0.0.1:18231/jwks")
        oidc.sign_in(make_user())
        response = exchange(oidc, rp, secret, "HS256", clock)
        assert response.json["error"] == "invalid_client"
        # The same server with a public key works, so the refusal above is the rule's.
        _JwksServer.body = json.dumps({"keys": [public(RSA_2048)]}).encode()
        app.extensions.pop("idp.client_jwks", None)
        response = exchange(oidc, rp, RSA_2048, "RS256", clock)
        assert response.status_code == 200, response.json
    finally:
        server.shutdown()
        server.server_close()
