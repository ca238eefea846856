"""Conformance review: the rules a certified relying party or the OpenID Foundation's Basic
and Config OP checks rely on, beyond the happy paths of the other ``test_oidc_*`` files."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .factories import make_user
from .test_oidc_support import (
    auth_params,
    authorize,
    decode,
    exchange,
    get_code,
    portal,
    query_of,
    sign_in,
    tokens_for,
)

ISSUER = "http://localhost"


# -- RFC 8414 §2: the signing algorithms of JWT client authentication -------------------
def test_discovery_names_assertion_algorithms_for_every_endpoint_taking_them(client):
    """``…_auth_signing_alg_values_supported`` MUST be present wherever ``private_key_jwt``
    is listed (RFC 8414 §2; OIDC Discovery §3 for the token endpoint)."""
    meta = client.get("/.well-known/openid-configuration").json
    for endpoint in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        assert "private_key_jwt" in meta[f"{endpoint}_auth_methods_supported"]
        algs = meta[f"{endpoint}_auth_signing_alg_values_supported"]
        assert algs == ["RS256", "ES256"] and "none" not in algs


# -- RFC 6749 §3.1: a parameter sent without a value is as if omitted ----------------------
@pytest.mark.parametrize("name", ["max_age", "prompt", "claims", "id_token_hint", "request",
                                  "request_uri", "response_mode", "acr_values", "login_hint"])
def test_empty_authorization_parameters_count_as_omitted(app, client, name):
    rp, _ = portal(first_party=True)
    sign_in(app, client, make_user())
    answer = query_of(authorize(client, auth_params(rp, **{name: ""})))
    assert "code" in answer, answer
    assert answer["iss"] == ISSUER


def test_empty_parameters_are_dropped_from_a_parked_request(app, client):
    """The request kept during sign-in is replayed without its empty parameters too."""
    rp, _ = portal(first_party=True)
    response = authorize(client, auth_params(rp, max_age="", response_mode=""))
    next_url = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    sign_in(app, client, make_user())
    assert "code" in query_of(client.get(next_url))


# -- RFC 7009 §2.1 / RFC 7662 §2.1: token_type_hint is only a hint -------------------------
@pytest.mark.parametrize("hint", ["id_token", "bogus"])
def test_unknown_token_type_hint_is_ignored(app, client, hint):
    """"An invalid token type hint value is ignored by the authorization server and does
    not influence the revocation response" (RFC 7009 §2.1); introspection searches every
    type whatever the hint (RFC 7662 §2.1)."""
    rp, secret = portal(first_party=True)
    tokens = tokens_for(app, client, rp, secret, make_user())
    inspected = client.post("/oauth/introspect", auth=(rp.client_id, secret), data={
        "token": tokens["access_token"], "token_type_hint": hint})
    assert inspected.status_code == 200 and inspected.json["active"] is True
    revoked = client.post("/oauth/revoke", auth=(rp.client_id, secret), data={
        "token": tokens["access_token"], "token_type_hint": hint})
    assert revoked.status_code == 200
    after = client.post("/oauth/introspect", auth=(rp.client_id, secret),
                        data={"token": tokens["access_token"]})
    assert after.json == {"active": False}


# -- OIDC Core §3.1.2.1: prompt=login and max_age cannot be skipped via the consent page ----
def _parked_key(response) -> str:
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login", response.headers["Location"]
    next_url = parse_qs(location.query)["next"][0]
    return parse_qs(urlsplit(next_url).query)["key"][0]


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "60"}])
def test_consent_page_does_not_bypass_a_required_sign_in(app, client, clock, extra):
    """A request waiting for a fresh sign-in must not be answered from the consent page
    (GET or POST) with the old session: both send the citizen back to sign in."""
    rp, _ = portal()
    user = make_user()
    sign_in(app, client, user)
    clock.advance(600)
    key = _parked_key(authorize(client, auth_params(rp, **extra)))
    page = client.get("/authorize/consent", query_string={"key": key})
    assert page.status_code == 302 and urlsplit(page.headers["Location"]).path == "/login"
    posted = client.post("/authorize/consent", data={"key": key, "approve": "1"})
    assert posted.status_code == 302 and urlsplit(posted.headers["Location"]).path == "/login"
    # After the sign-in it asked for, consent is shown and answered with a code.
    clock.advance(1)
    sign_in(app, client, user)
    answer = query_of(client.post("/authorize/consent", data={"key": key, "approve": "1"}))
    assert answer["code"] and answer["state"] == "st-1"


def test_consent_page_refuses_a_blocked_citizen(app, client):
    """A session whose citizen was blocked is no session: the consent page sends to sign-in."""
    from idp.extensions import db

    rp, _ = portal()
    user = make_user()
    sign_in(app, client, user)
    location = authorize(client, auth_params(rp)).headers["Location"]
    assert urlsplit(location).path == "/authorize/consent"
    key = parse_qs(urlsplit(location).query)["key"][0]
    user.status = "blocked"
    db.session.commit()
    posted = client.post("/authorize/consent", data={"key": key, "approve": "1"})
    assert posted.status_code == 302 and "code=" not in posted.headers["Location"]


# -- Basic OP plan regressions (each mirrors an oidcc-* module) ----------------------------
def test_scope_order_and_redirect_uri_query_are_kept(app, client):
    """oidcc-ensure-other-scope-order-succeeds and oidcc-redirect-uri-query-OK."""
    cb = "https://rp.example.ir/cb2?foo=bar"
    rp, secret = portal(first_party=True, redirect_uris=["https://rp.example.ir/cb", cb])
    sign_in(app, client, make_user())
    params = auth_params(rp, scope="email openid", redirect_uri=cb)
    response = authorize(client, params)
    assert response.headers["Location"].startswith(cb + "&code=")
    body = exchange(client, rp, secret, query_of(response)["code"], params).json
    assert set(body["scope"].split()) == {"openid", "email"} and body["id_token"]


def test_id_token_hint_with_prompt_none_answers_silently(app, client):
    """oidcc-id-token-hint: the hint of the signed-in citizen, prompt=none → a code."""
    rp, secret = portal(first_party=True)
    sign_in(app, client, make_user())
    code, params = get_code(client, rp)
    hint = exchange(client, rp, secret, code, params).json["id_token"]
    assert query_of(authorize(client, auth_params(rp, prompt="none", id_token_hint=hint)))["code"]


def test_refresh_id_token_keeps_the_original_authentication(app, client, clock):
    """OIDC Core §12.2 as oidcc-refresh-token checks it: same iss/sub/aud/auth_time, new
    iat, no nonce; another client cannot use the refresh token."""
    rp, secret = portal(first_party=True)
    other, other_secret = portal(first_party=True)
    first = tokens_for(app, client, rp, secret, make_user(), nonce="n-42")
    clock.advance(5)
    stolen = client.post("/oauth/token", auth=(other.client_id, other_secret), data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert stolen.status_code == 400 and stolen.json["error"] == "invalid_grant"
    second = client.post("/oauth/token", auth=(rp.client_id, secret), data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "scope": "openid profile"})
    assert second.status_code == 200 and second.headers["Cache-Control"] == "no-store"
    one = decode(client, first["id_token"]).claims
    two = decode(client, second.json["id_token"]).claims
    assert one["nonce"] == "n-42" and "nonce" not in two
    assert {k: one[k] for k in ("iss", "sub", "aud", "auth_time", "sid")} == \
        {k: two[k] for k in ("iss", "sub", "aud", "auth_time", "sid")}
    assert two["iat"] > one["iat"] and "azp" not in two


def test_pkce_downgrade_is_refused(app, client):
    """RFC 9700 §2.1.1: a code_verifier for a code requested without a challenge fails."""
    rp, secret = portal(first_party=True)
    sign_in(app, client, make_user())
    code, params = get_code(client, rp, code_challenge=None, code_challenge_method=None)
    answer = exchange(client, rp, secret, code, params)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request"


# -- Grants end with the SSO session (README "Tokens"; Back-Channel Logout 1.0 §2.7) -------
@pytest.mark.parametrize(("scope", "status"), [("openid profile", 400),
                                               ("openid profile offline_access", 200)])
def test_code_of_an_ended_sign_in_gives_no_tokens(app, client, scope, status):
    """A portal that exchanges its code after the citizen signed out (and after its
    back-channel logout token went out) gets nothing, unless offline access was granted."""
    from idp.accounts.session import end_sessions

    rp, secret = portal(first_party=True, scope="openid profile offline_access")
    session = sign_in(app, client, make_user())
    code, params = get_code(client, rp, scope=scope)
    with app.test_request_context():
        end_sessions([session], "logout")
    answer = exchange(client, rp, secret, code, params)
    assert answer.status_code == status, answer.json
    if status == 400:
        assert answer.json["error"] == "invalid_grant"
