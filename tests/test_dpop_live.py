"""DPoP against a live IdP on 127.0.0.1, over real HTTP.

Authlib 1.9 (the relying-party library of ``test_oidc_live``) has no DPoP client, so the
client here is httpx with joserfc proofs, written as a portal would: it retries once
when the server asks for a nonce (``use_dpop_nonce``) and keeps the newest
``DPoP-Nonce``. The server requires nonces and the client requires DPoP.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from idp.extensions import SystemClock

from . import test_oidc_live
from .factories import make_user, pkce_pair
from .test_oidc_live import CALLBACK, browser_sign_in, cli_client

live_server = test_oidc_live.live_server
issuer = test_oidc_live.issuer


@pytest.fixture
def app_config(app_config, live_server):
    port = live_server[0].port
    return {**app_config, "ISSUER": f"http://127.0.0.1:{port}",
            "SERVER_NAME": f"127.0.0.1:{port}", "CLOCK": SystemClock(),
            "DPOP_NONCE_REQUIRED": True}


class DPoPClient:
    """An HTTP client that proves possession of ``key`` on every request."""

    def __init__(self, http: httpx.Client, key: ECKey):
        self.http, self.key, self.nonce = http, key, None

    def proof(self, method: str, url: str, token: str | None) -> str:
        claims = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url,
                  "iat": int(time.time())}
        if token:
            digest = hashlib.sha256(token.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if self.nonce:
            claims["nonce"] = self.nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        return jwt.encode(header, claims, self.key, algorithms=["ES256"])

    def request(self, method: str, url: str, token: str | None = None, **kwargs):
        for _ in range(2):
            headers = {"DPoP": self.proof(method, url, token)}
            if token:
                headers["Authorization"] = f"DPoP {token}"
            response = self.http.request(method, url, headers=headers, **kwargs)
            self.nonce = response.headers.get("DPoP-Nonce", self.nonce)
            if not _asks_for_nonce(response):
                return response
        return response


def _asks_for_nonce(response) -> bool:
    if response.status_code == 401:
        return 'error="use_dpop_nonce"' in response.headers.get("WWW-Authenticate", "")
    return response.status_code == 400 and response.json().get("error") == "use_dpop_nonce"


def test_a_dpop_client_runs_the_code_flow_userinfo_and_refresh(issuer, runner):
    """dpop_jkt at /authorize → code exchange with a proof (after the nonce retry) →
    UserInfo with the DPoP scheme → refresh with the same key; the bound token fails as
    a bearer token and with another key."""
    portal = cli_client(runner, "--name", "پورتال همراه", "--type", "public",
                        "--redirect-uri", CALLBACK, "--scope", "openid profile offline_access",
                        "--grant-type", "authorization_code", "--grant-type", "refresh_token",
                        "--dpop-bound-access-tokens")
    metadata = httpx.get(issuer + "/.well-known/openid-configuration").json()
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    key = ECKey.generate_key("P-256")
    verifier, challenge = pkce_pair()
    query = {"response_type": "code", "client_id": portal["client_id"],
             "redirect_uri": CALLBACK, "scope": "openid profile offline_access",
             "state": "s", "nonce": "n", "code_challenge": challenge,
             "code_challenge_method": "S256", "dpop_jkt": key.thumbprint()}
    with httpx.Client() as browser, httpx.Client() as http:
        location = browser_sign_in(browser, f"{metadata['authorization_endpoint']}?"
                                            f"{urlencode(query)}", make_user())
        assert urlsplit(location).path == "/callback"
        code = parse_qs(urlsplit(location).query)["code"][0]
        client = DPoPClient(http, key)
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
                "code_verifier": verifier, "client_id": portal["client_id"]}
        without = http.post(metadata["token_endpoint"], data=form)
        assert without.json()["error"] == "invalid_dpop_proof"
        tokens = client.request("POST", metadata["token_endpoint"], data=form)
        assert tokens.status_code == 200, tokens.text
        assert client.nonce  # asked for with use_dpop_nonce, then sent
        body = tokens.json()
        assert body["token_type"] == "DPoP"
        access = body["access_token"]

        info = client.request("GET", metadata["userinfo_endpoint"], token=access)
        assert info.status_code == 200, info.headers
        assert info.json()["sub"]
        as_bearer = http.get(metadata["userinfo_endpoint"],
                             headers={"Authorization": f"Bearer {access}"})
        assert as_bearer.status_code == 401
        thief = DPoPClient(http, ECKey.generate_key("P-256"))
        thief.nonce = client.nonce
        stolen = thief.request("GET", metadata["userinfo_endpoint"], token=access)
        assert stolen.status_code == 401
        assert 'error="invalid_dpop_proof"' in stolen.headers["WWW-Authenticate"]

        refresh = {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
                   "client_id": portal["client_id"]}
        assert thief.request("POST", metadata["token_endpoint"],
                             data=refresh).json()["error"] == "invalid_grant"
        renewed = client.request("POST", metadata["token_endpoint"], data=refresh)
        assert renewed.status_code == 200, renewed.text
        assert renewed.json()["token_type"] == "DPoP"
