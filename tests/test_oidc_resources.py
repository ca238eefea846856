"""UserInfo, revocation (RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations

import pytest

from idp.extensions import db

from .factories import make_client, make_portal, make_user

ALL = "openid profile email phone national_id"


def userinfo(browser, token, method="GET", in_body=False):
    if in_body:
        return browser.post("/userinfo", data={"access_token": token})
    return browser.open("/userinfo", method=method,
                        headers={"Authorization": f"Bearer {token}"})


def introspect(browser, client, secret, token, **extra):
    return browser.post("/oauth/introspect", data={"token": token, **extra},
                        auth=(client.client_id, secret))


def revoke(browser, client, secret, token, **extra):
    return browser.post("/oauth/revoke", data={"token": token, **extra},
                        auth=(client.client_id, secret) if secret else None)


@pytest.mark.parametrize(("method", "in_body"), [("GET", False), ("POST", False),
                                                 ("POST", True)])
def test_userinfo_claims_by_scope(app, client, method, in_body, oidc):
    """Each scope releases its claims, in header or form-body bearer style."""
    rp, secret = make_portal(first_party=True)
    user = make_user(email="ali@example.ir")
    body = oidc.tokens_for(rp, secret, user, scope=ALL)
    response = userinfo(client, body["access_token"], method, in_body)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json == {
        "sub": user.subject, "name": "علی احمدی", "given_name": "علی", "family_name": "احمدی",
        "gender": "male", "birthdate": "1990-03-21", "locale": "fa-IR",
        "email": "ali@example.ir", "email_verified": False,
        "phone_number": "+98" + user.mobile[1:], "phone_number_verified": True,
        "national_code": user.id_code, "father_name": "حسین", "birthdate_jalali": "1369/01/01"}


def test_userinfo_releases_only_granted_scopes(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    user = make_user()
    body = oidc.tokens_for(rp, secret, user, scope="openid phone")
    assert userinfo(client, body["access_token"]).json == {
        "sub": user.subject, "phone_number": "+98" + user.mobile[1:],
        "phone_number_verified": True}


def test_foreign_national_gets_fida_code(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    user = make_user(id_type="fida", id_code="123456789012")
    body = oidc.tokens_for(rp, secret, user, scope="openid national_id")
    info = userinfo(client, body["access_token"]).json
    assert info["fida_code"] == "123456789012" and "national_code" not in info


def test_claims_parameter_puts_essential_claims_in_the_id_token(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    user = make_user()
    body = oidc.tokens_for(rp, secret, user, scope="openid",
                           claims='{"id_token": {"national_code": {"essential": true}},'
                                  ' "userinfo": {"given_name": null}}')
    assert oidc.decode(body["id_token"]).claims["national_code"] == user.id_code
    assert body["scope"] == "openid profile national_id"
    info = userinfo(client, body["access_token"]).json
    assert info["given_name"] == "علی"


@pytest.mark.parametrize("token", ["garbage", "a.b.c", ""])
def test_userinfo_bad_token(app, client, token):
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge


def test_userinfo_without_token_and_with_an_id_token(app, client, clock, oidc):
    """No token: a bare challenge. An ID token or an expired access token: invalid_token."""
    missing = client.get("/userinfo")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="http://localhost"'
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user())
    assert userinfo(client, body["id_token"]).status_code == 401
    clock.advance(301)
    expired = userinfo(client, body["access_token"])
    assert expired.status_code == 401 and 'error="invalid_token"' in \
        expired.headers["WWW-Authenticate"]


def test_revoked_access_token_is_refused_and_inactive(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user())
    assert introspect(client, rp, secret, body["access_token"]).json["active"] is True
    response = revoke(client, rp, secret, body["access_token"],
                      token_type_hint="access_token")
    assert response.status_code == 200
    assert userinfo(client, body["access_token"]).status_code == 401
    assert introspect(client, rp, secret, body["access_token"]).json == {"active": False}
    # The refresh token (its own grant member) still works.
    assert introspect(client, rp, secret, body["refresh_token"]).json["active"] is True


def test_revoking_the_refresh_token_ends_the_grant(app, client, oidc):
    """RFC 7009 §2.1: the access tokens of the same grant die with it."""
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user())
    assert revoke(client, rp, secret, body["refresh_token"]).status_code == 200
    assert userinfo(client, body["access_token"]).status_code == 401
    again = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                              "refresh_token": body["refresh_token"]},
                        auth=(rp.client_id, secret))
    assert again.json["error"] == "invalid_grant"


def test_revocation_edge_cases(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    other, other_secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user())
    assert revoke(client, rp, secret, "unknown-token").status_code == 200  # RFC 7009 §2.2
    foreign = revoke(client, other, other_secret, body["access_token"])
    assert foreign.status_code == 400 and foreign.json["error"] == "invalid_grant"
    assert userinfo(client, body["access_token"]).status_code == 200
    unauthenticated = revoke(client, rp, None, body["access_token"])
    assert unauthenticated.status_code in (400, 401)
    assert unauthenticated.json["error"] == "invalid_client"


def test_public_client_revokes_without_a_secret(app, client, oidc):
    spa, _ = make_portal(first_party=True, client_type="public")
    body = oidc.tokens_for(spa, None, make_user())
    response = client.post("/oauth/revoke", data={"token": body["refresh_token"],
                                                   "client_id": spa.client_id})
    assert response.status_code == 200
    assert userinfo(client, body["access_token"]).status_code == 401


def test_introspection_payloads(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    user = make_user()
    body = oidc.tokens_for(rp, secret, user)
    access = introspect(client, rp, secret, body["access_token"]).json
    claims = oidc.decode(body["access_token"]).claims
    assert access == {"active": True, "token_type": "Bearer", "scope": "openid profile",
                      "client_id": rp.client_id, "sub": user.subject, "aud": rp.client_id,
                      "iss": "http://localhost", "exp": claims["exp"], "iat": claims["iat"],
                      "jti": claims["jti"]}
    refresh = introspect(client, rp, secret, body["refresh_token"]).json
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert refresh["sub"] == user.subject and refresh["client_id"] == rp.client_id
    assert introspect(client, rp, secret, "nonsense").json == {"active": False}


def test_introspection_of_other_clients_tokens(app, client, oidc):
    """A client sees only its own tokens, unless it is flagged as a resource server."""
    rp, secret = make_portal(first_party=True)
    other, other_secret = make_portal(first_party=True)
    api, api_secret = make_client(client_type="service", redirect_uris=[],
                                  is_resource_server=True)
    body = oidc.tokens_for(rp, secret, make_user())
    assert introspect(client, other, other_secret, body["access_token"]).json == {
        "active": False}
    assert introspect(client, api, api_secret, body["access_token"]).json["active"] is True
    spa, _ = make_portal(first_party=True, client_type="public")
    public = client.post("/oauth/introspect", data={"token": body["access_token"],
                                                    "client_id": spa.client_id})
    assert public.json["error"] == "invalid_client"


def test_blocked_user_tokens_stop_working(app, client, oidc):
    rp, secret = make_portal(first_party=True)
    user = make_user()
    body = oidc.tokens_for(rp, secret, user)
    user.status = "disabled"
    db.session.commit()
    assert userinfo(client, body["access_token"]).status_code == 401
    assert introspect(client, rp, secret, body["access_token"]).json == {"active": False}
    assert introspect(client, rp, secret, body["refresh_token"]).json == {"active": False}
    refreshed = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                                  "refresh_token": body["refresh_token"]},
                            auth=(rp.client_id, secret))
    assert refreshed.status_code == 400 and refreshed.json["error"] == "invalid_grant"


def test_browser_apps_may_call_the_token_and_userinfo_endpoints(app, client):
    """CORS for bearer/JSON endpoints (no cookies involved), with preflight."""
    for path in ("/oauth/token", "/userinfo", "/oauth/revoke"):
        preflight = client.options(path, headers={
            "Origin": "https://spa.example.ir", "Access-Control-Request-Method": "POST"})
        assert preflight.headers["Access-Control-Allow-Origin"] == "*"
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Origin" not in client.options("/oauth/introspect").headers
