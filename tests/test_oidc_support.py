"""Helpers shared by the OpenID provider tests (this module holds no tests)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

from flask import request
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.accounts.session import login_user

from .factories import make_client

RP_REDIRECT = "https://rp.example.ir/cb"


def pkce_pair() -> tuple[str, str]:
    """Return a (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign_in(app, browser, user, amr=("pwd",)):
    """Start an SSO session for ``user`` and give its cookie to the test ``browser``."""
    with app.test_request_context("/login", method="POST"):
        row = login_user(user, amr=list(amr))
        raw = request.environ["idp.sso"]["cookie"]
    browser.set_cookie(app.config["SSO_COOKIE_NAME"], raw, domain="localhost")
    return row


def portal(**overrides):
    """Register a confidential portal allowed every scope; return (client, secret)."""
    values = {"redirect_uris": [RP_REDIRECT], "first_party": False,
              "post_logout_redirect_uris": ["https://rp.example.ir/bye"],
              "grant_types": ["authorization_code", "refresh_token"]}
    values.update(overrides)
    return make_client(**values)


def auth_params(client, **extra) -> dict:
    verifier, challenge = extra.pop("pkce", pkce_pair())
    params = {"response_type": "code", "client_id": client.client_id,
              "redirect_uri": client.redirect_uris[0], "scope": "openid profile",
              "state": "st-1", "nonce": "n-1", "code_challenge": challenge,
              "code_challenge_method": "S256"}
    params.update(extra)
    params["_verifier"] = verifier
    return params


def authorize(browser, params: dict):
    return browser.get("/authorize", query_string={k: v for k, v in params.items()
                                                   if not k.startswith("_") and v is not None})


def query_of(response) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def get_code(browser, client, **extra) -> tuple[str, dict]:
    """Run the authorization request (already signed in, consent given); return the code."""
    params = auth_params(client, **extra)
    response = authorize(browser, params)
    assert response.status_code == 302, response.get_data(as_text=True)
    answer = query_of(response)
    assert "code" in answer, answer
    return answer["code"], params


def exchange(browser, client, secret, code, params, **extra):
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": params["redirect_uri"], "code_verifier": params["_verifier"],
            "client_id": None if secret else client.client_id}
    data.update(extra)
    return browser.post("/oauth/token", data={k: v for k, v in data.items() if v is not None},
                        auth=(client.client_id, secret) if secret else None)


def tokens_for(app, browser, client, secret, user, **extra) -> dict:
    """Sign in, authorize and exchange: return the token response body."""
    sign_in(app, browser, user)
    code, params = get_code(browser, client, **extra)
    response = exchange(browser, client, secret, code, params)
    assert response.status_code == 200, response.json
    return response.json


def decode(browser, token: str):
    """Verify a token against the published JWKS (as a relying party would)."""
    keys = KeySet.import_key_set(browser.get("/jwks.json").json)
    return jwt.decode(token, keys)
