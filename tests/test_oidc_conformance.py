"""Conformance review: the rules a certified relying party or the OpenID Foundation's Basic
and Config OP checks rely on, beyond the happy paths of the other ``test_oidc_*`` files."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .factories import auth_params, make_portal, make_user, query_of

ISSUER = "http://localhost"


# -- RFC 8414 §2: the signing algorithms of JWT client authentication -------------------
def test_discovery_names_assertion_algorithms_for_every_endpoint_taking_them(client):
    """``…_auth_signing_alg_values_supported`` MUST be present wherever ``private_key_jwt``
    is listed (RFC 8414 §2; OIDC Discovery §3 for the token endpoint)."""
    meta = client.get("/.well-known/openid-configuration").json
    for endpoint in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        assert "private_key_jwt" in meta[f"{endpoint}_auth_methods_supported"]
        algs = meta[f"{endpoint}_auth_signing_alg_values_supported"]
        assert algs == ["RS256", "PS256", "ES256"] and "none" not in algs


# -- RFC 6749 §3.1: a parameter sent without a value is as if omitted ----------------------
@pytest.mark.parametrize("name", ["max_age", "prompt", "claims", "id_token_hint", "request",
                                  "request_uri", "response_mode", "acr_values", "login_hint"])
def test_empty_authorization_parameters_count_as_omitted(app, client, name, oidc):
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    answer = query_of(oidc.authorize(auth_params(rp, **{name: ""})))
    assert "code" in answer, answer
    assert answer["iss"] == ISSUER


def test_empty_parameters_are_dropped_from_a_parked_request(app, client, oidc):
    """The request kept during sign-in is replayed without its empty parameters too."""
    rp, _ = make_portal(first_party=True)
    response = oidc.authorize(auth_params(rp, max_age="", response_mode=""))
    next_url = parse_qs(urlsplit(response.headers["Location"]).query)["next"][0]
    oidc.sign_in(make_user())
    assert "code" in query_of(client.get(next_url))


# -- RFC 7009 §2.1 / RFC 7662 §2.1: token_type_hint is only a hint -------------------------
@pytest.mark.parametrize("hint", ["id_token", "bogus"])
def test_unknown_token_type_hint_is_ignored(app, client, hint, oidc):
    """"An invalid token type hint value is ignored by the authorization server and does
    not influence the revocation response" (RFC 7009 §2.1); introspection searches every
    type whatever the hint (RFC 7662 §2.1)."""
    rp, secret = make_portal(first_party=True)
    tokens = oidc.tokens_for(rp, secret, make_user())
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
def test_consent_page_does_not_bypass_a_required_sign_in(app, client, clock, extra, oidc):
    """A request waiting for a fresh sign-in must not be answered from the consent page
    (GET or POST) with the old session: both send the citizen back to sign in."""
    rp, _ = make_portal()
    user = make_user()
    oidc.sign_in(user)
    clock.advance(600)
    key = _parked_key(oidc.authorize(auth_params(rp, **extra)))
    page = client.get("/authorize/consent", query_string={"key": key})
    assert page.status_code == 302 and urlsplit(page.headers["Location"]).path == "/login"
    posted = client.post("/authorize/consent", data={"key": key, "approve": "1"})
    assert posted.status_code == 302 and urlsplit(posted.headers["Location"]).path == "/login"
    # After the sign-in it asked for, consent is shown and answered with a code.
    clock.advance(1)
    oidc.sign_in(user)
    answer = query_of(client.post("/authorize/consent", data={"key": key, "approve": "1"}))
    assert answer["code"] and answer["state"] == "st-1"


def test_consent_page_refuses_a_blocked_citizen(app, client, oidc):
    """A session whose citizen was blocked is no session: the consent page sends to sign-in."""
    from idp.extensions import db

    rp, _ = make_portal()
    user = make_user()
    oidc.sign_in(user)
    location = oidc.authorize(auth_params(rp)).headers["Location"]
    assert urlsplit(location).path == "/authorize/consent"
    key = parse_qs(urlsplit(location).query)["key"][0]
    user.status = "blocked"
    db.session.commit()
    posted = client.post("/authorize/consent", data={"key": key, "approve": "1"})
    assert posted.status_code == 302 and "code=" not in posted.headers["Location"]


# -- Basic OP plan regressions (each mirrors an oidcc-* module) ----------------------------
def test_scope_order_and_redirect_uri_query_are_kept(app, client, oidc):
    """oidcc-ensure-other-scope-order-succeeds and oidcc-redirect-uri-query-OK."""
    cb = "https://rp.example.ir/cb2?foo=bar"
    rp, secret = make_portal(first_party=True, redirect_uris=["https://rp.example.ir/cb", cb])
    oidc.sign_in(make_user())
    params = auth_params(rp, scope="email openid", redirect_uri=cb)
    response = oidc.authorize(params)
    assert response.headers["Location"].startswith(cb + "&code=")
    body = oidc.exchange(rp, secret, query_of(response)["code"], params).json
    assert set(body["scope"].split()) == {"openid", "email"} and body["id_token"]


def test_id_token_hint_with_prompt_none_answers_silently(app, client, oidc):
    """oidcc-id-token-hint: the hint of the signed-in citizen, prompt=none → a code."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    hint = oidc.exchange(rp, secret, code, params).json["id_token"]
    assert query_of(oidc.authorize(auth_params(rp, prompt="none", id_token_hint=hint)))["code"]


def test_refresh_id_token_keeps_the_original_authentication(app, client, clock, oidc):
    """OIDC Core §12.2 as oidcc-refresh-token checks it: same iss/sub/aud/auth_time, new
    iat, no nonce; another client cannot use the refresh token."""
    rp, secret = make_portal(first_party=True)
    other, other_secret = make_portal(first_party=True)
    first = oidc.tokens_for(rp, secret, make_user(), nonce="n-42")
    clock.advance(5)
    stolen = client.post("/oauth/token", auth=(other.client_id, other_secret), data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert stolen.status_code == 400 and stolen.json["error"] == "invalid_grant"
    second = client.post("/oauth/token", auth=(rp.client_id, secret), data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "scope": "openid profile"})
    assert second.status_code == 200 and second.headers["Cache-Control"] == "no-store"
    one = oidc.decode(first["id_token"]).claims
    two = oidc.decode(second.json["id_token"]).claims
    assert one["nonce"] == "n-42" and "nonce" not in two
    assert {k: one[k] for k in ("iss", "sub", "aud", "auth_time", "sid")} == \
        {k: two[k] for k in ("iss", "sub", "aud", "auth_time", "sid")}
    assert two["iat"] > one["iat"] and "azp" not in two


def test_pkce_downgrade_is_refused(app, client, oidc):
    """RFC 9700 §2.1.1: a code_verifier for a code requested without a challenge fails."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp, code_challenge=None, code_challenge_method=None)
    answer = oidc.exchange(rp, secret, code, params)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request"


# -- Grants end with the SSO session (README "Tokens"; Back-Channel Logout 1.0 §2.7) -------
@pytest.mark.parametrize(("scope", "status"), [("openid profile", 400),
                                               ("openid profile offline_access", 200)])
def test_code_of_an_ended_sign_in_gives_no_tokens(app, client, scope, status, oidc):
    """A portal that exchanges its code after the citizen signed out (and after its
    back-channel logout token went out) gets nothing, unless offline access was granted."""
    from idp.accounts.session import end_sessions

    rp, secret = make_portal(first_party=True, scope="openid profile offline_access")
    session = oidc.sign_in(make_user())
    code, params = oidc.get_code(rp, scope=scope)
    with app.test_request_context():
        end_sessions([session], "logout")
    answer = oidc.exchange(rp, secret, code, params)
    assert answer.status_code == status, answer.json
    if status == 400:
        assert answer.json["error"] == "invalid_grant"
