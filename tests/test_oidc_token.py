"""The token endpoint: codes, ID/access/refresh tokens, client authentication, grants."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select

from idp.clients.service import set_enabled
from idp.extensions import db
from idp.models import AccessToken, AuditEvent, AuthorizationCode, RefreshToken
from idp.security.hashing import sha256

from .factories import make_client, make_portal, make_user

ISSUER = "http://localhost"
TOKEN_URL = ISSUER + "/oauth/token"


def refresh(browser, client, secret, token, **extra):
    return browser.post("/oauth/token", data={"grant_type": "refresh_token",
                                              "refresh_token": token, **extra},
                        auth=(client.client_id, secret) if secret else None)


def bearer(browser, token):
    return browser.get("/userinfo", headers={"Authorization": f"Bearer {token}"})


def introspect(browser, client, secret, token):
    return browser.post("/oauth/introspect", data={"token": token},
                        auth=(client.client_id, secret)).json


def half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_code_exchange_returns_verified_tokens(app, client, clock, oidc):
    """ID token and RFC 9068 access token carry every required claim; only hashes are stored."""
    rp, secret = make_portal(first_party=True)
    user = make_user()
    session = oidc.sign_in(user)
    code, params = oidc.get_code(rp)
    response = oidc.exchange(rp, secret, code, params)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert body["scope"] == "openid profile"

    id_token = oidc.decode(body["id_token"])
    claims = id_token.claims
    now = int(clock.now().timestamp())
    assert id_token.header["alg"] == "RS256" and id_token.header["kid"]
    assert claims["iss"] == ISSUER and claims["aud"] == rp.client_id
    assert claims["sub"] == user.subject and claims["sub"] != user.id_code
    assert claims["iat"] == now and claims["exp"] == now + 3600
    assert claims["auth_time"] == int(session.auth_time.timestamp())
    assert claims["nonce"] == "n-1" and claims["sid"] == session.sid
    assert claims["amr"] == ["pwd"] and claims["acr"] == "urn:idp:loa:1"
    assert claims["at_hash"] == half_hash(body["access_token"])
    assert "name" not in claims  # profile claims come from UserInfo

    access = oidc.decode(body["access_token"])
    assert access.header["typ"] == "at+jwt"
    assert {k: access.claims[k] for k in ("iss", "sub", "aud", "client_id", "scope")} == {
        "iss": ISSUER, "sub": user.subject, "aud": rp.client_id, "client_id": rp.client_id,
        "scope": "openid profile"}
    assert access.claims["exp"] - access.claims["iat"] == 300 and access.claims["jti"]

    stored = db.session.scalar(select(AuthorizationCode))
    assert stored.code_hash == sha256(code) and stored.used_at is not None
    assert db.session.scalar(select(RefreshToken)).token_hash == sha256(body["refresh_token"])
    assert db.session.scalar(select(AccessToken)).jti == access.claims["jti"]


def test_sms_code_shows_in_amr_but_is_no_second_factor(app, client, oidc):
    """An SMS code proves the mobile (SIM-swappable), not a second factor: level 1."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user(), amr=("pwd", "sms"))
    code, params = oidc.get_code(rp)
    claims = oidc.decode(oidc.exchange(rp, secret, code, params).json["id_token"]).claims
    assert claims["amr"] == ["pwd", "sms"] and claims["acr"] == "urn:idp:loa:1"


def test_es256_client_gets_es256_id_tokens(app, client, oidc):
    rp, secret = make_portal(first_party=True, id_token_signed_response_alg="ES256")
    body = oidc.tokens_for(rp, secret, make_user())
    id_token = oidc.decode(body["id_token"])
    assert id_token.header["alg"] == "ES256"
    assert id_token.claims["at_hash"] == half_hash(body["access_token"])


def test_pairwise_subjects_differ_per_sector(app, client, oidc):
    """Pairwise clients of two sectors see two subs; one sector sees one; never the code."""
    user = make_user()
    subs = []
    for host in ("a.example.ir", "b.example.ir", "a.example.ir"):
        rp, secret = make_portal(first_party=True, subject_type="pairwise",
                                 redirect_uris=[f"https://{host}/cb"])
        body = oidc.tokens_for(rp, secret, user)
        subs.append(oidc.decode(body["id_token"]).claims["sub"])
        assert bearer(client, body["access_token"]).json["sub"] == subs[-1]
    assert subs[0] != subs[1] and subs[0] == subs[2]
    assert user.subject not in subs and user.id_code not in subs


def test_wrong_code_verifier(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    response = oidc.exchange(rp, secret, code, params, code_verifier="x" * 43)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"
    missing = oidc.exchange(rp, secret, code, params, code_verifier=None)
    assert missing.status_code == 400 and missing.json["error"] == "invalid_request"


def test_expired_code(app, client, clock, oidc):
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    clock.advance(app.config["OIDC_CODE_TTL"] + 1)
    response = oidc.exchange(rp, secret, code, params)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_code_replay_revokes_what_the_first_use_issued(app, client, oidc):
    """A second use fails with invalid_grant and kills the first use's tokens."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    first = oidc.exchange(rp, secret, code, params).json
    assert bearer(client, first["access_token"]).status_code == 200
    second = oidc.exchange(rp, secret, code, params)
    assert second.status_code == 400 and second.json["error"] == "invalid_grant"
    assert bearer(client, first["access_token"]).status_code == 401
    assert introspect(client, rp, secret, first["access_token"]) == {"active": False}
    assert refresh(client, rp, secret, first["refresh_token"]).json["error"] == "invalid_grant"
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "authorization_code_replayed"))
    assert event.client_id == rp.client_id and event.data["revoked_grants"] == 1


def test_code_used_by_another_client(app, client, oidc):
    rp, _ = make_portal(first_party=True)
    thief, thief_secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    response = oidc.exchange(thief, thief_secret, code, params)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_redirect_uri_must_match_the_authorization_request(app, client, oidc):
    rp, secret = make_portal(first_party=True, redirect_uris=["https://rp.example.ir/cb",
                                                              "https://rp.example.ir/cb2"])
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    response = oidc.exchange(rp, secret, code, params,
                             redirect_uri="https://rp.example.ir/cb2")
    assert response.json["error"] == "invalid_grant"


def test_refresh_rotates_and_reuse_revokes_the_family(app, client, clock, oidc):
    """Every refresh gives a new refresh token; presenting a rotated one ends the grant."""
    rp, secret = make_portal(first_party=True)
    user = make_user()
    first = oidc.tokens_for(rp, secret, user)
    clock.advance(60)
    second = refresh(client, rp, secret, first["refresh_token"])
    assert second.status_code == 200
    second = second.json
    assert second["refresh_token"] != first["refresh_token"]
    old_id, new_id = (oidc.decode(t["id_token"]).claims for t in (first, second))
    assert new_id["sub"] == old_id["sub"] and new_id["auth_time"] == old_id["auth_time"]
    assert new_id["iat"] == old_id["iat"] + 60 and "nonce" not in new_id
    narrowed = refresh(client, rp, secret, second["refresh_token"], scope="openid")
    assert narrowed.status_code == 200 and narrowed.json["scope"] == "openid"
    third = narrowed.json

    reuse = refresh(client, rp, secret, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json["error"] == "invalid_grant"
    assert refresh(client, rp, secret, third["refresh_token"]).json["error"] == "invalid_grant"
    assert bearer(client, third["access_token"]).status_code == 401
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.event == "refresh_token_reused")) is not None


def test_refresh_token_expires(app, client, clock, oidc):
    rp, secret = make_portal(first_party=True, refresh_token_ttl=600)
    body = oidc.tokens_for(rp, secret, make_user())
    clock.advance(601)
    assert refresh(client, rp, secret, body["refresh_token"]).json["error"] == "invalid_grant"


@pytest.mark.parametrize("how", ["post", "wrong-secret", "no-auth"])
def test_wrong_client_authentication_is_401(app, client, how, oidc):
    """A client_secret_basic client that authenticates otherwise gets invalid_client."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": params["redirect_uri"], "code_verifier": params["_verifier"]}
    auth = None
    if how == "post":
        data.update(client_id=rp.client_id, client_secret=secret)
    elif how == "wrong-secret":
        auth = (rp.client_id, "not-the-secret")
    else:
        data["client_id"] = rp.client_id
    response = client.post("/oauth/token", data=data, auth=auth)
    assert response.status_code == 401 and response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_client_secret_post_and_public_clients(app, client, oidc):
    rp, secret = make_portal(first_party=True, token_endpoint_auth_method="client_secret_post")
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    basic = oidc.exchange(rp, secret, code, params)
    assert basic.status_code == 401
    code, params = oidc.get_code(rp)
    posted = oidc.exchange(rp, None, code, params, client_id=rp.client_id,
                           client_secret=secret)
    assert posted.status_code == 200

    spa, _ = make_portal(first_party=True, client_type="public")
    code, params = oidc.get_code(spa)
    public = oidc.exchange(spa, None, code, params, client_id=spa.client_id)
    assert public.status_code == 200 and public.json["refresh_token"]


def _assertion(key, client_id, aud=TOKEN_URL, jti="jti-1", exp_in=60, now=None):
    issued = int(now or time.time())
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "jti": jti,
              "iat": issued, "exp": issued + exp_in}
    return jwt.encode({"alg": key.alg, "kid": key.kid}, claims, key)


def _key_jwt_exchange(oidc, rp, key, clock, jti, **extra):
    code, params = oidc.get_code(rp)
    return oidc.exchange(
        rp, None, code, params, client_id=rp.client_id,
        client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion=_assertion(key, rp.client_id, jti=jti, now=clock.now().timestamp()),
        **extra)


def test_private_key_jwt_and_replayed_jti(app, client, clock, oidc):
    """A signed client assertion authenticates once; the same jti again is refused."""
    key = RSAKey.generate_key(2048, {"alg": "RS256", "kid": "rp-key"})
    rp, secret = make_portal(first_party=True, token_endpoint_auth_method="private_key_jwt",
                             jwks={"keys": [key.as_dict(private=False)]})
    assert secret is None
    oidc.sign_in(make_user())
    assert _key_jwt_exchange(oidc, rp, key, clock, "jti-1").status_code == 200
    replay = _key_jwt_exchange(oidc, rp, key, clock, "jti-1")
    assert replay.status_code == 400 and replay.json["error"] == "invalid_client"
    assert "used" in replay.json["error_description"]
    other = ECKey.generate_key("P-256", {"alg": "ES256", "kid": "stranger"})
    forged = _key_jwt_exchange(oidc, rp, other, clock, "jti-2")
    assert forged.json["error"] == "invalid_client"
    clock.advance(3600)
    oidc.sign_in(make_user())
    stale = _key_jwt_exchange(oidc, rp, key, clock, "jti-3")
    assert stale.status_code == 200  # the assertion is dated by the same clock


class _JwksHandler(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self):  # noqa: N802 (http.server API)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_private_key_jwt_with_jwks_uri(app, client, clock, oidc):
    """Keys published at the client's jwks_uri (a loopback server here) are fetched."""
    key = ECKey.generate_key("P-256", {"alg": "ES256", "kid": "uri-key"})
    handler = type("H", (_JwksHandler,), {"body": json.dumps(
        {"keys": [key.as_dict(private=False)]}).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rp, _ = make_portal(first_party=True, token_endpoint_auth_method="private_key_jwt",
                            jwks_uri=f"http://127.0.0.1:{server.server_port}/jwks")
        oidc.sign_in(make_user())
        assert _key_jwt_exchange(oidc, rp, key, clock, "j-1").status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_client_credentials(app, client, oidc):
    """Only for clients allowed it: an access token, no ID token, no refresh token."""
    service, secret = make_client(client_type="service", redirect_uris=[],
                                  scope="openid profile")
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(service.client_id, secret))
    assert response.status_code == 200
    body = response.json
    assert "id_token" not in body and "refresh_token" not in body
    assert body["scope"] == "profile"
    claims = oidc.decode(body["access_token"]).claims
    assert claims["sub"] == claims["client_id"] == service.client_id
    assert introspect(client, service, secret, body["access_token"])["active"] is True
    userinfo = bearer(client, body["access_token"])
    assert userinfo.status_code == 403 and userinfo.json["error"] == "insufficient_scope"
    too_much = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "scope": "email"},
                           auth=(service.client_id, secret))
    assert too_much.status_code == 400 and too_much.json["error"] == "invalid_scope"

    rp, rp_secret = make_portal(first_party=True)
    refused = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(rp.client_id, rp_secret))
    assert refused.status_code == 400 and refused.json["error"] == "unauthorized_client"


def test_disabled_client_stops_at_once(app, client, oidc):
    """Disabling a client: token endpoint refuses, introspection inactive, userinfo refused."""
    rp, secret = make_portal(first_party=True)
    resource, resource_secret = make_client(client_type="service", redirect_uris=[],
                                            is_resource_server=True)
    body = oidc.tokens_for(rp, secret, make_user())
    assert introspect(client, resource, resource_secret, body["access_token"])["active"]
    set_enabled(rp.client_id, False)
    assert refresh(client, rp, secret, body["refresh_token"]).status_code == 401
    assert introspect(client, resource, resource_secret, body["access_token"]) == {
        "active": False}
    assert introspect(client, resource, resource_secret, body["refresh_token"]) == {
        "active": False}
    assert bearer(client, body["access_token"]).status_code == 401


def test_per_client_access_token_lifetime(app, client, oidc):
    rp, secret = make_portal(first_party=True, access_token_ttl=60)
    body = oidc.tokens_for(rp, secret, make_user())
    assert body["expires_in"] == 60
    claims = oidc.decode(body["access_token"]).claims
    assert claims["exp"] - claims["iat"] == 60


def test_token_endpoint_protocol_errors(app, client):
    rp, secret = make_portal(first_party=True)
    unknown = client.post("/oauth/token", data={"grant_type": "password"},
                          auth=(rp.client_id, secret))
    assert unknown.status_code == 400 and unknown.json["error"] == "unsupported_grant_type"
    assert client.get("/oauth/token").status_code == 405
    garbage = client.post("/oauth/token", data={"grant_type": "authorization_code",
                                                "code": "nope", "redirect_uri": "x"},
                          auth=(rp.client_id, secret))
    assert garbage.json["error"] == "invalid_grant"
