"""The demo portal (examples/portal) against a live IdP: sign-in through Authlib's Flask
client, and its back-channel logout receiver, which must refuse every malformed token."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp.oidc import tokens
from idp.oidc.logout import EVENT

from .factories import make_user
from .test_oidc_live import (  # noqa: F401 (fixtures)
    CALLBACK,
    app_config,
    browser_sign_in,
    cli_client,
    issuer,
    live_server,
)

PORTAL = Path(__file__).resolve().parents[1] / "examples" / "portal" / "portal.py"


def load_portal():
    spec = importlib.util.spec_from_file_location("demo_portal", PORTAL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def signed_in(issuer, runner):  # noqa: F811
    """The portal app's test client, signed in through the live IdP; and the IdP session."""
    registered = cli_client(runner, "--name", "پورتال نمونه", "--redirect-uri", CALLBACK,
                            "--scope", "openid profile phone national_id")
    user = make_user()
    portal = load_portal().create_app({
        "CLIENT_ID": registered["client_id"], "CLIENT_SECRET": registered["client_secret"],
        "ISSUER": issuer, "BASE_URL": "http://127.0.0.1:8001", "TITLE": "پورتال نمونه",
        "SECRET_KEY": "test"}).test_client()
    to_idp = portal.get("/login")
    assert to_idp.status_code == 302
    with httpx.Client(follow_redirects=False) as browser:
        callback = urlsplit(browser_sign_in(browser, to_idp.headers["Location"], user))
    assert portal.get(f"{callback.path}?{callback.query}").headers["Location"] == "/me"
    page = portal.get("/me").text
    assert user.id_code[:3] + "*****" + user.id_code[-2:] in page and user.id_code not in page
    sid = re.search(r'data-claim="sid">([^<]+)<', page)[1]
    sub = re.search(r"id_token.sub</th><td>([^<]+)<", page)[1]
    return portal, registered["client_id"], sid, sub


def logout_token(client_id, sid, sub, typ="logout+jwt", key=None, **changes):
    claims = {"iss": tokens.issuer(), "aud": client_id, "iat": tokens.timestamp(),
              "exp": tokens.timestamp() + 120, "jti": tokens.new_jti(), "sid": sid, "sub": sub,
              "events": {EVENT: {}}}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    if key is not None:
        return jwt.encode({"alg": "RS256", "typ": typ, "kid": "other"}, claims, key)
    return tokens.sign(claims, "RS256", typ)


BAD = {
    "wrong audience": {"aud": "someone-else"},
    "wrong issuer": {"iss": "http://127.0.0.1:1"},
    "expired": {"exp": 1},
    "no event": {"events": None},
    "other event": {"events": {"http://example.ir/other": {}}},
    "a nonce": {"nonce": "n"},
    "neither sid nor sub": {"sid": None, "sub": None},
    "an ID token type": {"typ": "JWT"},
    "another key": {"key": RSAKey.generate_key(2048)},
}


@pytest.mark.parametrize("case", BAD)
def test_backchannel_receiver_refuses_a_bad_logout_token(signed_in, case):
    portal, client_id, sid, sub = signed_in
    changes = {"sid": sid, "sub": sub, **BAD[case]}
    answer = portal.post("/backchannel-logout", data={
        "logout_token": logout_token(client_id, **changes)})
    assert answer.status_code == 400 and answer.json == {"error": "invalid_request"}
    assert portal.get("/me").status_code == 200  # still signed in


def test_backchannel_logout_ends_the_session_of_that_sid_once(signed_in):
    portal, client_id, sid, sub = signed_in
    other = logout_token(client_id, "another-sid", sub)
    assert portal.post("/backchannel-logout", data={"logout_token": other}).status_code == 200
    assert portal.get("/me").status_code == 200  # another IdP session: not this one
    token = logout_token(client_id, sid, sub)
    answer = portal.post("/backchannel-logout", data={"logout_token": token})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert portal.get("/me").headers["Location"] == "/"  # the local session is gone
    assert portal.post("/backchannel-logout", data={"logout_token": token}).status_code == 400
