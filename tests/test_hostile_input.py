"""Hostile input never produces a 500: undecodable credentials, characters an OAuth error
may not carry, huge numbers, deeply nested JSON and oversized bodies or fields."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from idp.clients import dcr
from idp.extensions import db
from idp.messages import message
from idp.models import Client

from .factories import auth_params, make_portal, make_user, query_of

#: Byte strings that are valid base64 but not UTF-8 (issue 9, finding 1).
NOT_UTF8_BASIC = ["ZZZ=", "//46/w==", "gA==", "wyg6eA=="]

def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


DEEP = "[" * 10000 + "]" * 10000
#: A compact JWS whose header is JSON nested 10,000 deep.
DEEP_JWT = f"{_b64(DEEP)}.{_b64('{}')}.c2ln"

#: The payload kinds of the probe (issue 9, finding 2): text an error could echo.
HOSTILE = {
    "persian_letters": "کد",
    "persian_digits": "۱۲۳",
    "arabic_digits": "١٢٣",
    "nul": "a\x00b",
    "cr_lf": "a\r\nSet-Cookie: x=1",
    "lf": "a\nb",
    "tab": "a\tb",
    "bidi_override": "a\u202eb",
    "rlm": "a\u200fb",
    "zero_width": "a\u200bb",
    "emoji": "\U0001f600",
    "quotes_tag": "'\">",
    "backslash": "a\\b",
    "script": "<script>alert(1)</script>",
    "percent": "%00%0d%0a",
    "del": "a\x7fb",
    "lone_surrogate_escape": "\\ud800",
    "replacement_char": "\ufffd",
    "long": "x" * 5000,
    "spaces": "   ",
    "mixed": "code ۱ \u202e\U0001f600\"",
    "deep_json": DEEP,
    "deep_jwt": DEEP_JWT,
}
#: Every /authorize parameter whose value an error answer could carry.
ECHOED = ["response_type", "scope", "prompt", "max_age", "response_mode",
          "code_challenge_method", "code_challenge", "nonce", "state", "claims",
          "acr_values", "ui_locales", "login_hint", "display", "id_token_hint", "resource"]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "DCR_ENABLED": True}


def allowed_in_error(text: str) -> bool:
    """RFC 6749 §4.1.2.1: error_description is %x20-21 / %x23-5B / %x5D-7E."""
    return all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in text)


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
@pytest.mark.parametrize("credentials", NOT_UTF8_BASIC)
def test_basic_credentials_that_are_not_utf8_are_an_invalid_client(client, path, credentials):
    """Undecodable Basic credentials → 401 invalid_client with WWW-Authenticate, never 500."""
    make_portal()
    response = client.post(path, data={"grant_type": "client_credentials", "token": "x"},
                           headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("param", ECHOED)
@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_authorize_parameters_get_the_normal_error(client, oidc, param, kind):
    """Any text in any echoed parameter → a page or an error redirect, never a 500; an
    error_description only ever holds the characters RFC 6749 allows."""
    rp, _ = make_portal()
    response = oidc.authorize(auth_params(rp, **{param: HOSTILE[kind]}))
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code == 302 and response.headers["Location"].startswith(
            rp.redirect_uris[0]):
        answer = query_of(response)
        assert allowed_in_error(answer.get("error_description", ""))


@pytest.mark.parametrize("kind", HOSTILE)
def test_unknown_response_type_is_unsupported_response_type(client, oidc, kind):
    """A response_type of any text gets the normal unsupported_response_type redirect."""
    rp, _ = make_portal()
    response = oidc.authorize(auth_params(rp, response_type=HOSTILE[kind]))
    if not HOSTILE[kind].strip():
        return  # a blank value counts as omitted (RFC 6749 §3.1)
    assert response.status_code == 302
    answer = query_of(response)
    assert answer["error"] == "unsupported_response_type"
    assert allowed_in_error(answer["error_description"])


@pytest.mark.parametrize("value", ["9" * 4301, "1" * 20, "-1", "1e3", "۱۲"])
def test_max_age_out_of_range_is_invalid_request(client, oidc, value):
    """A max_age too large for any clock (or not a plain integer) → invalid_request."""
    rp, _ = make_portal()
    response = oidc.authorize(auth_params(rp, max_age=value))
    assert response.status_code == 302
    assert query_of(response)["error"] == "invalid_request"


def iat() -> str:
    return dcr.issue_initial_token("fuzz", ttl=3600, max_uses=1)[1]


def test_deeply_nested_registration_is_invalid_metadata(app, client):
    """DCR with JSON nested 10,000 deep → 400 invalid_client_metadata, no client row."""
    response = client.post("/connect/register", data=DEEP,
                           content_type="application/json",
                           headers={"Authorization": f"Bearer {iat()}"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == "invalid_client_metadata"
    assert db.session.scalar(select(func.count()).select_from(Client)) == 0


def test_deeply_nested_update_is_invalid_metadata(app, client):
    """RFC 7592 PUT with JSON nested 10,000 deep → 400 invalid_client_metadata."""
    body = client.post("/connect/register", json={
        "client_name": "Nested", "redirect_uris": ["https://rp.example.ir/cb"]},
        headers={"Authorization": f"Bearer {iat()}"}).json
    response = client.put(f"/connect/register/{body['client_id']}", data=DEEP,
                          content_type="application/json",
                          headers={"Authorization": f"Bearer {body['registration_access_token']}"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("assertion", [DEEP_JWT, DEEP, "a.b.c", "\u202e"])
def test_hostile_client_assertion_is_an_invalid_client(client, assertion):
    """A private_key_jwt assertion that cannot be parsed → invalid_client, never 500."""
    rp, _ = make_portal()
    response = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": rp.client_id,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion})
    assert response.status_code in (400, 401), response.get_data(as_text=True)
    assert response.json["error"] == "invalid_client"


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
@pytest.mark.parametrize("token", [DEEP_JWT, "\x00", "a" * 5000])
def test_hostile_tokens_at_introspection_and_revocation(client, path, token):
    """Any token text at introspection or revocation gets an RFC answer, never 500."""
    rp, secret = make_portal()
    response = client.post(path, data={"token": token}, auth=(rp.client_id, secret))
    assert response.status_code == (400 if "\x00" in token else 200), response.status_code
    if response.status_code == 400:  # NUL: refused before any lookup
        assert response.json["error"] == "invalid_request"


@pytest.mark.parametrize("token", [DEEP_JWT, "a" * 5000, "\u202e"])
def test_hostile_bearer_at_userinfo(client, token):
    """Any bearer text at UserInfo → 401 invalid_token, never 500."""
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.get_data(as_text=True)


def test_deeply_nested_jwks_in_the_admin_form_is_not_json(client, auth):
    """The admin client form's jwks nested 3,000 deep (inside the field cap) → the form's
    "not JSON" error, never 500."""
    auth.admin_session()
    response = client.post("/admin/clients/new", data={
        "name_fa": "پورتال", "client_type": "confidential",
        "redirect_uris": "https://rp.example.ir/cb", "scope": ["openid"],
        "token_endpoint_auth_method": "private_key_jwt", "subject_type": "public",
        "id_token_signed_response_alg": "RS256", "jwks": "[" * 3000 + "]" * 3000})
    assert response.status_code == 200
    assert message("not_json") in response.get_data(as_text=True)


def test_a_long_client_search_is_answered(client, auth):
    """The admin client search with a long, LIKE-hostile query → a page, never 500."""
    auth.admin_session()
    make_portal()  # SQLite checks a LIKE pattern only against a row
    assert client.get("/admin/clients", query_string={"q": "\U0001f600" * 20000}).status_code == 200


def test_nul_in_a_form_or_query_is_a_400(client, oidc, auth):
    """NUL in any query or form value → 400 (PostgreSQL text cannot hold it), never 500."""
    oidc.sign_in(make_user())
    assert client.post("/account/sessions/end", data={"sid": "a\x00b"}).status_code == 400
    response = client.post("/oauth/token", data={"grant_type": "a\x00"})
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert client.get("/admin/clients?q=a%00b").status_code == 400


def test_nul_in_authorize_is_the_normal_error(client, oidc):
    """NUL in client_id → the error page; in any other parameter → invalid_request."""
    rp, _ = make_portal()
    assert client.get("/authorize", query_string={"client_id": "a\x00"}).status_code == 400
    response = oidc.authorize(auth_params(rp, resource="https://api.example.ir/\x00"))
    assert response.status_code == 302 and query_of(response)["error"] == "invalid_request"
