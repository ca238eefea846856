"""Dynamic client registration (RFC 7591) with admin-issued initial access tokens, and
the management protocol (RFC 7592): read, update, delete."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from idp.clients import dcr
from idp.clients.credentials import secret_matches
from idp.errors import DomainError
from idp.extensions import db
from idp.messages import MESSAGES
from idp.models import AuditEvent, Client, InitialAccessToken

from .factories import auth_params, make_user, query_of

METADATA = {
    "client_name": "Ministry portal", "client_name#fa": "پورتال وزارتخانه",
    "redirect_uris": ["https://portal.example.ir/cb"],
    "post_logout_redirect_uris": ["https://portal.example.ir/"],
    "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
    "scope": "openid profile email", "token_endpoint_auth_method": "client_secret_basic",
    "contacts": ["ops@example.ir"],  # unknown to us: ignored (RFC 7591 §2)
}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "DCR_ENABLED": True}


def iat(max_uses=1, ttl=3600) -> str:
    return dcr.issue_initial_token("ministry automation", ttl=ttl, max_uses=max_uses)[1]


def register(client, token, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/connect/register", json=METADATA if body is None else body,
                       headers=headers)


def clients() -> int:
    return db.session.scalar(select(func.count(Client.id)))


def test_register_with_a_valid_initial_access_token(client):
    response = register(client, iat())
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    stored = db.session.scalar(select(Client))
    assert body["client_id"] == stored.client_id
    assert secret_matches(stored, body["client_secret"])
    assert body["client_secret_expires_at"] == 0
    assert body["registration_client_uri"] == f"http://localhost/connect/register/{stored.client_id}"
    assert body["registration_access_token"] and "contacts" not in body
    assert body["client_name#fa"] == "پورتال وزارتخانه" == stored.name_fa
    assert stored.name_en == "Ministry portal" and stored.client_type == "confidential"
    assert stored.first_party is False and stored.is_resource_server is False
    assert body["redirect_uris"] == METADATA["redirect_uris"]
    assert body["response_types"] == ["code"] and body["scope"] == "openid profile email"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client_created"))
    assert event.data["via"] == "dcr" and event.client_id == stored.client_id
    assert db.session.scalar(select(InitialAccessToken.uses)) == 1


@pytest.mark.parametrize("case", ["missing", "unknown", "expired", "revoked", "used_up"])
def test_bad_initial_access_tokens_are_refused(client, clock, case):
    token = iat(ttl=3600)
    if case == "missing":
        token = None
    elif case == "unknown":
        token = "x" * 43
    elif case == "expired":
        clock.advance(3601)
    elif case == "revoked":
        dcr.revoke_initial_token(db.session.scalar(select(InitialAccessToken.id)))
    elif case == "used_up":
        assert register(client, token).status_code == 201
    before = clients()
    response = register(client, token)
    assert response.status_code == 401
    assert response.json["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    assert clients() == before
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.event == "dcr_refused"))


def test_a_token_registers_as_many_clients_as_it_allows(client):
    token = iat(max_uses=2)
    assert register(client, token).status_code == 201
    assert register(client, token).status_code == 201
    assert register(client, token).status_code == 401
    assert clients() == 2


@pytest.mark.parametrize(("body", "error"), [
    ({**METADATA, "redirect_uris": ["http://portal.example.ir/cb"]}, "invalid_redirect_uri"),
    ({**METADATA, "redirect_uris": ["https://portal.example.ir/cb#x"]}, "invalid_redirect_uri"),
    ({**METADATA, "scope": "openid admin"}, "invalid_client_metadata"),
    ({**METADATA, "response_types": ["token"]}, "invalid_client_metadata"),
    ({**METADATA, "redirect_uris": "https://portal.example.ir/cb"}, "invalid_client_metadata"),
    ({**METADATA, "client_name": None, "client_name#fa": None}, "invalid_client_metadata"),
    ({**METADATA, "sector_identifier_uri": "https://portal.example.ir/s.json"},
     "invalid_client_metadata"),
    ({**METADATA, "grant_types": ["client_credentials", "authorization_code"],
      "token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
    ({**METADATA, "jwks": "not an object"}, "invalid_client_metadata"),
    (["not", "an", "object"], "invalid_client_metadata"),
])
def test_invalid_metadata_is_refused_without_spending_the_token(client, body, error):
    token = iat()
    response = register(client, token, body)
    assert response.status_code == 400
    assert response.json["error"] == error
    assert response.json["error_description"].isascii()
    assert clients() == 0
    assert register(client, token).status_code == 201  # the token was not spent


def test_disabled_setting_hides_the_endpoints(app, client, configure):
    token = iat()
    configure(DCR_ENABLED=False)
    response = register(client, token)
    assert response.status_code == 404 and response.is_json
    assert client.get("/connect/register/x").status_code == 404


def test_discovery_advertises_the_registration_endpoint(client):
    meta = client.get("/.well-known/openid-configuration").json
    assert meta["registration_endpoint"] == "http://localhost/connect/register"


def test_registered_client_completes_a_code_flow(app, client, oidc):
    """A portal registered by automation signs a citizen in like any other."""
    body = register(client, iat()).json
    rp = db.session.scalar(select(Client))
    user = make_user()
    browser = app.test_client()
    oidc.sign_in(user, browser=browser)
    params = auth_params(rp, scope="openid email")
    consent = oidc.authorize(params, browser=browser)
    assert urlsplit(consent.headers["Location"]).path == "/authorize/consent"  # not first-party
    key = parse_qs(urlsplit(consent.headers["Location"]).query)["key"][0]
    code = query_of(browser.post("/authorize/consent", data={"key": key, "approve": "1"}))["code"]
    tokens = oidc.exchange(rp, body["client_secret"], code, params, browser=browser)
    assert tokens.status_code == 200, tokens.json
    assert tokens.json["id_token"] and tokens.json["access_token"]
    userinfo = browser.get("/userinfo",
                           headers={"Authorization": f"Bearer {tokens.json['access_token']}"})
    assert userinfo.json["email"] == user.email


def test_registered_public_client_uses_pkce(app, client, oidc):
    """A native app registers without a secret; the code exchange needs its PKCE verifier."""
    body = register(client, iat(), {**METADATA, "token_endpoint_auth_method": "none",
                                     "redirect_uris": ["ir.example.portal:/cb"]}).json
    assert "client_secret" not in body and body["token_endpoint_auth_method"] == "none"
    rp = db.session.scalar(select(Client))
    assert rp.client_type == "public" and rp.secret_hash is None
    user = make_user()
    browser = app.test_client()
    oidc.sign_in(user, browser=browser)
    without_pkce = oidc.authorize({**auth_params(rp), "code_challenge": None,
                                   "code_challenge_method": None}, browser=browser)
    assert "code" not in query_of(without_pkce)
    params = auth_params(rp)
    consent = oidc.authorize(params, browser=browser)
    key = parse_qs(urlsplit(consent.headers["Location"]).query)["key"][0]
    code = query_of(browser.post("/authorize/consent", data={"key": key, "approve": "1"}))["code"]
    tokens = oidc.exchange(rp, None, code, params, client_id=rp.client_id, browser=browser)
    assert tokens.status_code == 200, tokens.json


def manage(client, method, client_id, token, body=None):
    return client.open(f"/connect/register/{client_id}", method=method, json=body,
                       headers={"Authorization": f"Bearer {token}"} if token else {})


def test_read_returns_metadata_and_rotates_the_registration_token(client):
    body = register(client, iat()).json
    old = body["registration_access_token"]
    read = manage(client, "GET", body["client_id"], old)
    assert read.status_code == 200
    assert read.json["redirect_uris"] == METADATA["redirect_uris"]
    assert "client_secret" not in read.json  # never stored, never shown again
    new = read.json["registration_access_token"]
    assert new != old
    assert manage(client, "GET", body["client_id"], old).status_code == 401
    assert manage(client, "GET", body["client_id"], new).status_code == 200


def test_update_replaces_the_metadata(client):
    body = register(client, iat()).json
    client_id, token = body["client_id"], body["registration_access_token"]
    change = {"client_id": client_id, "client_name#fa": "پورتال تازه",
              "redirect_uris": ["https://portal.example.ir/new"], "scope": "openid",
              "client_secret": body["client_secret"], "first_party": True}
    updated = manage(client, "PUT", client_id, token, change)
    assert updated.status_code == 200, updated.json
    stored = db.session.scalar(select(Client))
    db.session.refresh(stored)
    assert stored.redirect_uris == ["https://portal.example.ir/new"]
    assert stored.post_logout_redirect_uris == []  # omitted: cleared (RFC 7592 §2.2)
    assert stored.name_fa == "پورتال تازه" and stored.scope == "openid"
    assert stored.grant_types == ["authorization_code"] and stored.first_party is False
    assert secret_matches(stored, body["client_secret"])  # the secret stays
    token = updated.json["registration_access_token"]

    assert manage(client, "PUT", client_id, token, {**change, "client_id": "other"}
                  ).status_code == 400
    wrong_secret = manage(client, "PUT", client_id, token, {**change, "client_secret": "x"})
    assert wrong_secret.status_code == 400
    retype = manage(client, "PUT", client_id, token,
                    {**change, "token_endpoint_auth_method": "none"})
    assert retype.status_code == 400 and retype.json["error"] == "invalid_client_metadata"
    bad_uri = manage(client, "PUT", client_id, token, {**change, "redirect_uris": ["/cb"]})
    assert bad_uri.json["error"] == "invalid_redirect_uri"
    assert manage(client, "PUT", client_id, "wrong", change).status_code == 401


def test_delete_removes_the_client(client):
    body = register(client, iat()).json
    client_id, token = body["client_id"], body["registration_access_token"]
    assert manage(client, "DELETE", client_id, "wrong").status_code == 401
    response = manage(client, "DELETE", client_id, token)
    assert response.status_code == 204 and response.data == b""
    assert clients() == 0
    assert manage(client, "GET", client_id, token).status_code == 401
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "client_deleted"))
    assert event.data["via"] == "dcr"


def test_a_registration_token_manages_only_its_own_client(client):
    first = register(client, iat()).json
    second = register(client, iat()).json
    assert manage(client, "GET", second["client_id"],
                  first["registration_access_token"]).status_code == 401
    assert manage(client, "GET", first["client_id"], None).status_code == 401


def test_admin_clients_are_not_manageable_by_dcr(client):
    from .factories import make_client

    made, _ = make_client(client_id="portal")
    assert made.registration_token_hash is None
    assert manage(client, "GET", "portal", "anything").status_code == 401


def test_admin_page_issues_a_token_shown_once_and_revokes_it(app, client, clock, auth):
    admin = auth.admin_session()
    page = client.post("/admin/registration-tokens", data={
        "label": "وزارت رفاه", "ttl_hours": "24", "max_uses": "3"}).get_data(as_text=True)
    token = re.search(r'<code class="secret">([A-Za-z0-9_\-]{43})</code>', page)[1]
    row = db.session.scalar(select(InitialAccessToken))
    assert row.max_uses == 3 and row.created_by == admin.id and token not in row.token_hash
    listing = client.get("/admin/registration-tokens").get_data(as_text=True)
    assert "وزارت رفاه" in listing and token not in listing
    robot = app.test_client()
    assert register(robot, token).status_code == 201
    client.post(f"/admin/registration-tokens/{row.id}/revoke")
    assert register(robot, token).status_code == 401
    issued = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "dcr_token_issued"))
    assert issued.actor_id == admin.id


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"label": " "}, "required"), ({"ttl": 60}, "iat_ttl_invalid"),
    ({"ttl": 400 * 86400}, "iat_ttl_invalid"), ({"max_uses": 0}, "max_uses_invalid"),
    ({"max_uses": 1001}, "max_uses_invalid")])
def test_token_issue_rules(app, kwargs, code):
    values = {"label": "x", "ttl": 3600, "max_uses": 1, **kwargs}
    with pytest.raises(DomainError) as caught:
        dcr.issue_initial_token(values["label"], values["ttl"], values["max_uses"])
    assert caught.value.code == code and code in MESSAGES
