"""A live IdP on 127.0.0.1 driven by a real relying-party library (Authlib's OAuth2Session).

The server thread handles each request in its own app context and database session;
the SQLite test database is a file, so both threads see the same data.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet
from werkzeug.serving import make_server

from idp.extensions import SystemClock
from idp.oidc.logout import wait_for_deliveries

from .factories import DEFAULT_PASSWORD, make_user

CALLBACK = "http://127.0.0.1:8001/callback"  # never fetched: the test reads the redirect
BYE = "http://127.0.0.1:8001/"


@pytest.fixture
def live_server():
    """A bound loopback socket first, so the app can be built with its real issuer URL."""
    holder = {}
    server = make_server("127.0.0.1", 0, lambda environ, start: holder["app"](environ, start),
                         threaded=True)
    yield server, holder
    server.server_close()


@pytest.fixture
def app_config(app_config, live_server):
    port = live_server[0].port
    return {**app_config, "ISSUER": f"http://127.0.0.1:{port}",
            "SERVER_NAME": f"127.0.0.1:{port}", "CLOCK": SystemClock()}


@pytest.fixture
def issuer(app, live_server):
    server, holder = live_server
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app.config["ISSUER"]
    wait_for_deliveries(app)
    server.shutdown()
    thread.join(5)


def cli_client(runner, *args) -> dict:
    result = runner.invoke(args=["clients", "create", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def validate_id_token(token: str, keys: KeySet, issuer: str, client_id: str, nonce: str):
    """What a relying party does: signature against the JWKS, then the claims."""
    decoded = jwt.decode(token, keys)
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": issuer},
                          aud={"essential": True, "value": client_id},
                          sub={"essential": True}, exp={"essential": True},
                          iat={"essential": True},
                          nonce={"essential": True, "value": nonce}).validate(decoded.claims)
    return decoded


def hidden_fields(html: str) -> dict:
    """The hidden inputs of a page: the CSRF token (when enabled), the consent key."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        attributes = dict(re.findall(r'([a-z]+)="([^"]*)"', tag))
        if attributes.get("type") == "hidden" and "name" in attributes:
            fields[attributes["name"]] = attributes.get("value", "")
    return fields


def browser_sign_in(browser: httpx.Client, authorization_url: str, user) -> str:
    """Follow the IdP's pages like a browser; return the redirect back to the portal."""
    response = browser.get(authorization_url)
    assert response.status_code == 302
    login = urljoin(authorization_url, response.headers["Location"])
    assert urlsplit(login).path == "/login"
    page = browser.get(login)
    assert page.status_code == 200
    response = browser.post(login, data={**hidden_fields(page.text), "id_code": user.id_code,
                                         "password": DEFAULT_PASSWORD})
    assert response.status_code == 302, response.text
    response = browser.get(urljoin(login, response.headers["Location"]))  # resume
    consent = urljoin(login, response.headers["Location"])
    assert urlsplit(consent).path == "/authorize/consent"
    page = browser.get(consent)
    assert "اجازه دسترسی" in page.text
    response = browser.post(consent.split("?")[0],
                            data={**hidden_fields(page.text), "approve": "1"})
    assert response.status_code == 302
    return response.headers["Location"]


def test_a_relying_party_library_runs_every_flow(issuer, runner):
    """Discovery → code+PKCE → ID token check → userinfo → refresh → introspection →
    revocation → client credentials → RP-initiated logout, all over real HTTP."""
    portal = cli_client(runner, "--name", "پورتال نمونه", "--redirect-uri", CALLBACK,
                        "--post-logout-redirect-uri", BYE,
                        "--scope", "openid profile email phone national_id")
    service = cli_client(runner, "--name", "سرویس", "--type", "service")
    every_flow(issuer, portal, service, make_user())


def every_flow(issuer: str, portal: dict, service: dict, user) -> None:
    """What a relying-party library does with a portal and a service client: the checks
    one instance passes, and a cluster behind a load balancer (tests/test_cluster.py)."""
    meta = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    assert meta["issuer"] == issuer
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"]).json())

    rp = OAuth2Session(portal["client_id"], portal["client_secret"],
                      scope="openid profile national_id", redirect_uri=CALLBACK,
                      code_challenge_method="S256")
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    url, state = rp.create_authorization_url(meta["authorization_endpoint"],
                                             code_verifier=verifier, nonce=nonce)
    with httpx.Client(follow_redirects=False) as browser:
        callback = browser_sign_in(browser, url, user)
        answer = parse_qs(urlsplit(callback).query)
        assert answer["iss"] == [issuer] and answer["state"] == [state]
        token = rp.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               code_verifier=verifier, state=state)
        id_token = validate_id_token(token["id_token"], keys, issuer, portal["client_id"], nonce)
        assert id_token.claims["amr"] == ["pwd"] and id_token.claims["sid"]

        info = rp.get(meta["userinfo_endpoint"]).json()
        assert info["sub"] == id_token.claims["sub"] and info["national_code"] == user.id_code

        rotated = rp.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
        assert rotated["refresh_token"] != token["refresh_token"]
        refreshed = jwt.decode(rotated["id_token"], keys).claims  # OIDC Core §12.2
        assert refreshed["sub"] == id_token.claims["sub"] and "nonce" not in refreshed
        assert refreshed["auth_time"] == id_token.claims["auth_time"]
        assert rp.introspect_token(meta["introspection_endpoint"],
                                   token=rotated["access_token"]).json()["active"] is True
        assert rp.revoke_token(meta["revocation_endpoint"], token=rotated["access_token"],
                               token_type_hint="access_token").status_code == 200
        assert rp.introspect_token(meta["introspection_endpoint"],
                                   token=rotated["access_token"]).json() == {"active": False}
        assert rp.get(meta["userinfo_endpoint"]).status_code == 401

        machine = OAuth2Session(service["client_id"], service["client_secret"])
        machine_token = machine.fetch_token(meta["token_endpoint"],
                                            grant_type="client_credentials")
        assert "id_token" not in machine_token and "refresh_token" not in machine_token
        assert jwt.decode(machine_token["access_token"], keys).claims["sub"] == \
            service["client_id"]

        logout = browser.get(meta["end_session_endpoint"], params={
            "id_token_hint": token["id_token"], "post_logout_redirect_uri": BYE,
            "state": "after"})
        assert logout.status_code == 302 and logout.headers["Location"] == BYE + "?state=after"
        silent, _ = rp.create_authorization_url(meta["authorization_endpoint"],
                                                code_verifier=verifier, prompt="none")
        back = parse_qs(urlsplit(browser.get(silent).headers["Location"]).query)
        assert back["error"] == ["login_required"]
        with pytest.raises(OAuthError, match="invalid_grant"):
            rp.refresh_token(meta["token_endpoint"], refresh_token=rotated["refresh_token"])


def test_tokens_signed_before_rotation_still_verify(issuer, runner, app):
    """After `flask keys rotate` the JWKS still has the old key; new tokens use the new one."""
    portal = cli_client(runner, "--name", "پورتال", "--redirect-uri", CALLBACK, "--first-party")
    rp = OAuth2Session(portal["client_id"], portal["client_secret"], scope="openid",
                      redirect_uri=CALLBACK, code_challenge_method="S256")
    user = make_user()

    def sign_in_and_fetch(browser):
        verifier = secrets.token_urlsafe(48)
        url, state = rp.create_authorization_url(f"{issuer}/authorize", code_verifier=verifier,
                                                 nonce="n")
        response = browser.get(url)
        if urlsplit(response.headers["Location"]).path == "/login":
            login = urljoin(url, response.headers["Location"])
            response = browser.post(login, data={"id_code": user.id_code,
                                                 "password": DEFAULT_PASSWORD})
            response = browser.get(urljoin(login, response.headers["Location"]))
        return rp.fetch_token(f"{issuer}/oauth/token",
                              authorization_response=response.headers["Location"],
                              code_verifier=verifier, state=state)

    with httpx.Client(follow_redirects=False) as browser:
        before = sign_in_and_fetch(browser)
        old_kid = jwt.decode(before["id_token"],
                             KeySet.import_key_set(httpx.get(f"{issuer}/jwks.json").json())
                             ).header["kid"]
        result = runner.invoke(args=["keys", "rotate", "--delay", "0"])
        assert result.exit_code == 0, result.output
        published = KeySet.import_key_set(httpx.get(f"{issuer}/jwks.json").json())
        assert len(published.keys) == 4
        assert jwt.decode(before["id_token"], published).header["kid"] == old_kid
        assert jwt.decode(before["access_token"], published).claims["scope"] == "openid"
        rp.token = before
        assert rp.get(f"{issuer}/userinfo").status_code == 200
        after = sign_in_and_fetch(browser)
        assert jwt.decode(after["id_token"], published).header["kid"] != old_kid
