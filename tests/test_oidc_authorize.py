"""The authorization endpoint: errors, sign-in hand-off, prompts, max_age and consent."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.grants import consents
from idp.models import AuthorizationCode, Consent, PendingAuthorization

from .factories import DEFAULT_PASSWORD, auth_params, make_portal, make_user, query_of

ISSUER = "http://localhost"


def test_discovery_document_is_complete(client):
    """Discovery lists every endpoint and capability a certified RP library reads."""
    meta = client.get("/.well-known/openid-configuration").json
    assert meta["issuer"] == ISSUER
    for name, path in {"authorization_endpoint": "/authorize", "token_endpoint": "/oauth/token",
                       "userinfo_endpoint": "/userinfo", "jwks_uri": "/jwks.json",
                       "revocation_endpoint": "/oauth/revoke", "end_session_endpoint": "/logout",
                       "introspection_endpoint": "/oauth/introspect"}.items():
        assert meta[name] == ISSUER + path
    assert meta["response_types_supported"] == ["code"]
    # query, and JARM's signed modes (tests/test_jarm.py); never web_message (RFC 9700 §4.17).
    assert meta["response_modes_supported"] == ["query", "jwt", "query.jwt", "fragment.jwt",
                                                "form_post.jwt"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert set(meta["subject_types_supported"]) == {"public", "pairwise"}
    assert meta["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert set(meta["grant_types_supported"]) == {"authorization_code", "refresh_token",
                                                  "client_credentials"}
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
    assert {"openid", "profile", "email", "phone", "national_id"} <= set(meta["scopes_supported"])
    assert {"national_code", "fida_code", "phone_number", "sid", "amr"} <= set(
        meta["claims_supported"])
    assert meta["backchannel_logout_supported"] is meta["backchannel_logout_session_supported"] \
        is meta["authorization_response_iss_parameter_supported"] is True
    assert meta["claims_parameter_supported"] is True
    assert meta["request_parameter_supported"] is True  # RFC 9101 (tests/test_request_object.py)
    assert meta["request_uri_parameter_supported"] is False  # only PAR URNs
    assert meta["ui_locales_supported"] == ["fa", "en"]


@pytest.mark.parametrize("client_id", ["no-such-client", None])
def test_unknown_client_gets_a_page_not_a_redirect(app, client, client_id):
    """An unknown or missing client_id: a Persian error page, never a redirect."""
    response = client.get("/authorize", query_string={
        "response_type": "code", "redirect_uri": "https://rp.example.ir/cb", "scope": "openid",
        **({"client_id": client_id} if client_id else {})})
    assert response.status_code == 400 and "Location" not in response.headers
    assert "شناخته‌شده نیست" in response.get_data(as_text=True)


def test_disabled_client_is_refused_at_once(app, client, oidc):
    rp, _ = make_portal(first_party=True)
    rp.enabled = False
    db.session.commit()
    response = oidc.authorize(auth_params(rp))
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("redirect_uri", ["https://evil.example/cb", "https://rp.example.ir/cb/x",
                                          "https://rp.example.ir/cb?x=1", "", None])
def test_unregistered_redirect_uri_never_redirects(app, client, redirect_uri, oidc):
    """Exact matching: prefixes, extra query strings or a missing URI are refused."""
    rp, _ = make_portal()
    response = oidc.authorize(auth_params(rp, redirect_uri=redirect_uri))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "نشانی بازگشت" in response.get_data(as_text=True)


def _error_redirect(response, error):
    assert response.status_code == 302
    assert response.headers["Location"].startswith("https://rp.example.ir/cb?")
    answer = query_of(response)
    assert answer["error"] == error, answer
    assert answer["iss"] == ISSUER  # RFC 9207, errors included
    assert answer["state"] == "st-1"
    return answer


@pytest.mark.parametrize("pkce", [{"code_challenge": None, "code_challenge_method": None},
                                  {"code_challenge_method": "plain"},
                                  {"code_challenge_method": None}])
def test_public_client_must_use_s256(app, client, pkce, oidc):
    """Missing PKCE, ``plain`` or a method left out (= plain) are refused for public clients."""
    rp, _ = make_portal(client_type="public", first_party=True)
    oidc.sign_in(make_user())
    _error_redirect(oidc.authorize(auth_params(rp, **pkce)), "invalid_request")


def test_plain_pkce_refused_for_confidential_clients_too(app, client, oidc):
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    _error_redirect(oidc.authorize(auth_params(rp, code_challenge_method="plain")),
                    "invalid_request")


def test_unsupported_response_type(app, client, oidc):
    rp, _ = make_portal(first_party=True)
    _error_redirect(oidc.authorize(auth_params(rp, response_type="token")),
                    "unsupported_response_type")


def test_client_without_the_code_grant_is_unauthorized(app, client, oidc):
    rp, _ = make_portal(first_party=True, grant_types=["client_credentials"])
    _error_redirect(oidc.authorize(auth_params(rp)), "unauthorized_client")


@pytest.mark.parametrize("scope", ["openid admin", "openid email"])
def test_invalid_scope(app, client, scope, oidc):
    """Unknown scopes, and scopes the client is not registered for, are invalid_scope."""
    rp, _ = make_portal(scope="openid profile", first_party=True)
    oidc.sign_in(make_user())
    _error_redirect(oidc.authorize(auth_params(rp, scope=scope)), "invalid_scope")


@pytest.mark.parametrize(("extra", "error"), [
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "invalid_request_object"),  # unsigned
    ({"request_uri": "https://rp.example.ir/req"}, "request_uri_not_supported"),
    ({"claims": "{not json"}, "invalid_request"),
    ({"max_age": "-5"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"response_mode": "fragment"}, "invalid_request"),
    ({"id_token_hint": "not.a.token"}, "invalid_request"),
])
def test_bad_openid_parameters(app, client, extra, error, oidc):
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    _error_redirect(oidc.authorize(auth_params(rp, **extra)), error)


def test_prompt_none_without_session_is_login_required(app, client, oidc):
    rp, _ = make_portal(first_party=True)
    _error_redirect(oidc.authorize(auth_params(rp, prompt="none")), "login_required")


def test_prompt_none_without_consent_is_consent_required(app, client, oidc):
    rp, _ = make_portal()
    oidc.sign_in(make_user())
    _error_redirect(oidc.authorize(auth_params(rp, prompt="none")), "consent_required")


def test_unknown_parameters_are_ignored(app, client, oidc):
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, _ = oidc.get_code(rp, foo="bar", display="page", ui_locales="fa en")
    assert code


def test_sign_in_hand_off_parks_the_request(app, client, oidc):
    """No session: the request waits server-side, /login signs in, the resume URL answers."""
    rp, secret = make_portal(first_party=True)
    user = make_user()
    params = auth_params(rp, login_hint=user.id_code)
    response = oidc.authorize(params)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    query = parse_qs(location.query)
    assert query["login_hint"] == [user.id_code]
    next_url = query["next"][0]
    assert next_url.startswith("/authorize/resume?key=")
    key = next_url.split("key=")[1]
    pending = db.session.scalar(select(PendingAuthorization))
    assert pending.client_id == rp.client_id and key not in pending.key_hash
    assert "state" in pending.params and "foo" not in pending.params

    login_page = client.get(response.headers["Location"])
    assert user.id_code in login_page.get_data(as_text=True)  # pre-filled
    signed = client.post(f"/login?next={next_url.replace('?', '%3F').replace('=', '%3D')}",
                         data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    assert signed.status_code == 302 and signed.headers["Location"].endswith(next_url)
    answer = query_of(client.get(next_url))
    assert answer["state"] == "st-1" and answer["iss"] == ISSUER and answer["code"]
    assert db.session.scalar(select(PendingAuthorization)) is None  # used once
    tokens = oidc.exchange(rp, secret, answer["code"], params).json
    assert oidc.decode(tokens["id_token"]).claims["amr"] == ["pwd"]


def test_resume_with_unknown_or_expired_key(app, client, clock, oidc):
    rp, _ = make_portal(first_party=True)
    location = oidc.authorize(auth_params(rp)).headers["Location"]
    next_url = parse_qs(urlsplit(location).query)["next"][0]
    assert client.get("/authorize/resume?key=nope").status_code == 400
    clock.advance(app.config["OIDC_AUTH_REQUEST_TTL"] + 1)
    oidc.sign_in(make_user())
    page = client.get(next_url)
    assert page.status_code == 400 and "مهلت" in page.get_data(as_text=True)


def _login_redirect_key(response) -> str:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    return parse_qs(location.query)["next"][0]


def test_prompt_login_forces_a_fresh_sign_in(app, client, clock, oidc):
    """prompt=login: the old session is not enough; the new one's auth_time is in the token."""
    rp, secret = make_portal(first_party=True)
    user = make_user()
    oidc.sign_in(user)
    clock.advance(120)
    params = auth_params(rp, prompt="login")
    next_url = _login_redirect_key(oidc.authorize(params))
    assert _login_redirect_key(client.get(next_url)) == next_url  # still the old session
    clock.advance(5)
    fresh = oidc.sign_in(user)
    answer = query_of(client.get(next_url))
    tokens = oidc.exchange(rp, secret, answer["code"], params).json
    claims = oidc.decode(tokens["id_token"]).claims
    assert claims["auth_time"] == int(fresh.auth_time.timestamp())
    assert claims["sid"] == fresh.sid


def test_prompt_select_account_asks_for_a_sign_in(app, client, oidc):
    """prompt=select_account is not ignored: the citizen signs in (chooses the account) again."""
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    _login_redirect_key(oidc.authorize(auth_params(rp, prompt="select_account")))
    assert "code" in query_of(oidc.authorize(auth_params(rp)))


def test_max_age_forces_login_when_exceeded(app, client, clock, oidc):
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    clock.advance(600)
    _login_redirect_key(oidc.authorize(auth_params(rp, max_age="300")))
    assert query_of(oidc.authorize(auth_params(rp, max_age="3600")))["code"]
    _error_redirect(oidc.authorize(auth_params(rp, max_age="300", prompt="none")),
                    "login_required")


def test_max_age_zero_is_satisfied_by_the_sign_in_it_asked_for(app, client, clock, oidc):
    """max_age=0 behaves like prompt=login: one new sign-in, then the code."""
    rp, _ = make_portal(first_party=True)
    user = make_user()
    oidc.sign_in(user)
    clock.advance(1)
    next_url = _login_redirect_key(oidc.authorize(auth_params(rp, max_age="0")))
    clock.advance(3)
    oidc.sign_in(user)
    clock.advance(2)  # the browser takes a moment to come back
    assert query_of(client.get(next_url))["code"]


def test_id_token_hint_for_someone_else(app, client, oidc):
    """A hint naming another citizen: prompt=none answers login_required."""
    rp, secret = make_portal(first_party=True)
    other = make_user()
    oidc.sign_in(other)
    code, params = oidc.get_code(rp)
    hint = oidc.exchange(rp, secret, code, params).json["id_token"]
    oidc.sign_in(make_user())
    _error_redirect(oidc.authorize(auth_params(rp, prompt="none", id_token_hint=hint)),
                    "login_required")
    _login_redirect_key(oidc.authorize(auth_params(rp, id_token_hint=hint)))


def test_first_party_client_skips_consent(app, client, oidc):
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    assert query_of(oidc.authorize(auth_params(rp)))["code"]


def _consent_url(response) -> str:
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/authorize/consent"
    return response.headers["Location"]


def test_consent_is_asked_stored_and_reused(app, client, oidc):
    """The consent page lists claims in Persian; approval is stored per user × client."""
    rp, _ = make_portal()
    user = make_user()
    oidc.sign_in(user)
    url = _consent_url(oidc.authorize(auth_params(rp, scope="openid profile national_id")))
    page = client.get(url).get_data(as_text=True)
    assert "پورتال آزمایشی" in page and "کد ملی" in page and "نام پدر" in page
    key = parse_qs(urlsplit(url).query)["key"][0]
    answer = query_of(client.post("/authorize/consent", data={"key": key, "approve": "1"}))
    assert answer["code"] and answer["iss"] == ISSUER and answer["state"] == "st-1"
    row = db.session.scalar(select(Consent))
    assert (row.user_id, row.client_id) == (user.id, rp.client_id)
    assert set(row.scope.split()) == {"openid", "profile", "national_id"}
    # Same or fewer scopes: no question; a new scope or prompt=consent: asked again.
    assert query_of(oidc.authorize(auth_params(rp, scope="openid profile")))["code"]
    _consent_url(oidc.authorize(auth_params(rp, scope="openid email")))
    _consent_url(oidc.authorize(auth_params(rp, prompt="consent")))


def test_consent_denied_is_access_denied(app, client, oidc):
    rp, _ = make_portal()
    oidc.sign_in(make_user())
    url = _consent_url(oidc.authorize(auth_params(rp)))
    key = parse_qs(urlsplit(url).query)["key"][0]
    _error_redirect(client.post("/authorize/consent", data={"key": key, "deny": "1"}),
                    "access_denied")
    assert db.session.scalar(select(Consent)) is None


def test_claims_parameter_counts_as_its_scope_for_consent(app, client, oidc):
    """Asking for phone_number via ``claims`` asks consent for the phone scope."""
    rp, _ = make_portal()
    oidc.sign_in(make_user())
    url = _consent_url(oidc.authorize(auth_params(
        rp, scope="openid", claims='{"userinfo": {"phone_number": {"essential": true}}}')))
    assert "شماره تلفن همراه" in client.get(url).get_data(as_text=True)


def test_revoked_consent_is_asked_again(app, client, oidc):
    """idp.grants.consents.revoke (the account page's call) withdraws consent and the grants."""
    rp, secret = make_portal()
    user = make_user()
    oidc.sign_in(user)
    consents.grant(user.id, rp.client_id, {"openid", "profile"})
    db.session.commit()
    code, params = oidc.get_code(rp)
    refresh = oidc.exchange(rp, secret, code, params).json["refresh_token"]
    assert [c.client_id for c in consents.list_consents(user.id)] == [rp.client_id]
    assert consents.revoke(user.id, rp.client_id) is True
    assert consents.list_consents(user.id) == []
    _consent_url(oidc.authorize(auth_params(rp)))
    again = client.post("/oauth/token", data={"grant_type": "refresh_token",
                                              "refresh_token": refresh},
                        auth=(rp.client_id, secret))
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"


def test_post_authorization_request_and_csrf_on_consent(app_config, make_app, database_template,
                                                        oidc):
    """POST /authorize works cross-site; the consent form needs its CSRF token."""
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    with csrf_app.app_context():
        rp, _ = make_portal()
        user = make_user()
        browser = csrf_app.test_client()
        oidc.sign_in(user, browser=browser)
        params = {k: v for k, v in auth_params(rp).items() if not k.startswith("_")}
        url = _consent_url(browser.post("/authorize", data=params))
        key = parse_qs(urlsplit(url).query)["key"][0]
        refused = browser.post("/authorize/consent", data={"key": key, "approve": "1"})
        assert refused.status_code == 400 and "Location" not in refused.headers
        page = browser.get(url).get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        answer = query_of(browser.post("/authorize/consent",
                                       data={"key": key, "approve": "1", "csrf_token": token}))
        assert answer["code"]
        assert db.session.scalar(select(AuthorizationCode)).client_id == rp.client_id
        db.session.remove()
