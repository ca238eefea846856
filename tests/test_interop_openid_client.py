"""Interoperability with openid-client 6 (panva's npm package), the relying-party library
many portals use: each variant runs ``interop/openid-client/flow.mjs`` against a live IdP.

The script does discovery, builds the authorization URL and prints it; this test plays
the citizen's browser (httpx, the real sign-in and consent pages) and hands the callback
URL back on stdin; the script then exchanges the code, validates the ID token, calls
UserInfo, refreshes and introspects, and prints what it got. Variants: client_secret_basic,
private_key_jwt, signed introspection (RFC 9701), JARM; PAR, JAR, DPoP and a FAPI 2.0 client
are ``xfail`` until the PAR and DPoP branches are merged.

Without ``npm ci --prefix interop/openid-client`` the tests skip locally and fail in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import ECKey

from .conftest import require_service
from .factories import make_user
from .test_oidc_live import (  # noqa: F401 (the live-server fixtures)
    app_config,
    browser_sign_in,
    cli_client,
    issuer,
    live_server,
)

HARNESS = Path(__file__).resolve().parent.parent / "interop" / "openid-client"
CALLBACK = "http://127.0.0.1:8001/callback"  # never fetched: the test reads the redirect
TIMEOUT = 60


@pytest.fixture
def node():
    executable = shutil.which("node")
    if executable is None:
        require_service("Node.js", "node is not on PATH")
    if not (HARNESS / "node_modules" / "openid-client").is_dir():
        require_service("openid-client", "run: npm ci --prefix interop/openid-client")
    return executable


def run_flow(node: str, issuer: str, client: dict, user, *args: str, jwk: dict | None = None):
    """Run flow.mjs with ``args``; sign in when it prints the authorization URL."""
    env = {**os.environ, "IDP_ISSUER": issuer, "IDP_CLIENT_ID": client["client_id"],
           "IDP_CLIENT_SECRET": client.get("client_secret") or "",
           "IDP_CLIENT_JWK": json.dumps(jwk) if jwk else "", "IDP_REDIRECT_URI": CALLBACK}
    with subprocess.Popen([node, str(HARNESS / "flow.mjs"), *args], env=env, text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=HARNESS) as process:
        try:
            first = json.loads(process.stdout.readline() or "{}")
            assert "authorization_url" in first, first
            with httpx.Client() as browser:
                callback = browser_sign_in(browser, first["authorization_url"], user)
            out, err = process.communicate(callback + "\n", timeout=TIMEOUT)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    last = json.loads(out.strip().splitlines()[-1])
    assert "result" in last, (last, err)
    return last["result"]


def ec_key() -> ECKey:
    return ECKey.generate_key("P-256", {"alg": "ES256", "kid": "interop-key"}, private=True)


def register_with_key(runner, tmp_path, key, *args) -> dict:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    return cli_client(runner, "--name", "پورتال کلیدی", "--redirect-uri", CALLBACK,
                      "--auth-method", "private_key_jwt", "--jwks", str(jwks), *args)


def check_common(result: dict, issuer: str, client_id: str) -> None:
    claims = result["id_token_claims"]
    assert claims["iss"] == issuer and claims["aud"] == client_id
    assert result["userinfo"]["sub"] == claims["sub"]
    assert result["userinfo"]["given_name"]
    assert result["refreshed"]["id_token_sub"] == claims["sub"]
    introspection = result["introspection"]
    assert introspection["active"] is True and introspection["client_id"] == client_id
    assert introspection["sub"] == claims["sub"]


def test_code_flow_with_client_secret_basic(node, issuer, runner):
    """Code + PKCE, ID token, UserInfo, a rotated refresh and JSON introspection."""
    client = cli_client(runner, "--name", "پورتال نمونه", "--redirect-uri", CALLBACK,
                        "--scope", "openid profile offline_access")
    result = run_flow(node, issuer, client, make_user())
    check_common(result, issuer, client["client_id"])
    assert result["token_type"].lower() == "bearer"
    assert result["refreshed"]["new_refresh_token"] is True  # rotation
    assert result["introspection_media_type"].startswith("application/json")


def test_code_flow_with_private_key_jwt_and_signed_introspection(node, issuer, runner,
                                                                 tmp_path):
    """private_key_jwt at the token and introspection endpoints; the introspection answer
    is an ES256 JWT that openid-client verifies against the JWKS (RFC 9701)."""
    key = ec_key()
    client = register_with_key(runner, tmp_path, key, "--scope",
                               "openid profile offline_access", "--introspection-alg", "ES256")
    result = run_flow(node, issuer, client, make_user(), "--auth", "private_key_jwt",
                      "--introspection-alg", "ES256", jwk=key.as_dict(private=True))
    check_common(result, issuer, client["client_id"])
    assert result["introspection_media_type"] == "application/token-introspection+jwt"


def test_signed_introspection_with_client_secret_basic(node, issuer, runner):
    """An RS256 introspection JWT for a secret-authenticated resource server."""
    client = cli_client(runner, "--name", "پورتال نمونه", "--redirect-uri", CALLBACK,
                        "--scope", "openid profile offline_access", "--introspection-alg",
                        "RS256")
    result = run_flow(node, issuer, client, make_user(), "--introspection-alg", "RS256")
    check_common(result, issuer, client["client_id"])
    assert result["introspection_media_type"] == "application/token-introspection+jwt"


def test_jwt_secured_authorization_response(node, issuer, runner):
    """``useJwtResponseMode``: the code comes back in a signed JARM response."""
    client = cli_client(runner, "--name", "پورتال نمونه", "--redirect-uri", CALLBACK,
                        "--scope", "openid profile offline_access")
    result = run_flow(node, issuer, client, make_user(), "--jarm")
    check_common(result, issuer, client["client_id"])
    assert result["callback_had_response"] is True


def test_pushed_authorization_request(node, issuer, runner):
    """``buildAuthorizationUrlWithPAR``: the request goes to the PAR endpoint first."""
    client = cli_client(runner, "--name", "پورتال نمونه", "--redirect-uri", CALLBACK,
                        "--scope", "openid profile offline_access")
    result = run_flow(node, issuer, client, make_user(), "--par")
    check_common(result, issuer, client["client_id"])


def test_signed_request_object(node, issuer, runner, tmp_path):
    """``buildAuthorizationUrlWithJAR``: the parameters travel in a signed request object."""
    key = ec_key()
    client = register_with_key(runner, tmp_path, key, "--scope", "openid profile offline_access")
    result = run_flow(node, issuer, client, make_user(), "--auth", "private_key_jwt", "--jar",
                      jwk=key.as_dict(private=True))
    check_common(result, issuer, client["client_id"])


def test_dpop_bound_tokens(node, issuer, runner):
    """``getDPoPHandle``: DPoP-bound access and refresh tokens, UserInfo with a proof."""
    client = cli_client(runner, "--name", "پورتال نمونه", "--redirect-uri", CALLBACK,
                        "--scope", "openid profile offline_access")
    result = run_flow(node, issuer, client, make_user(), "--dpop")
    check_common(result, issuer, client["client_id"])
    assert result["token_type"].lower() == "dpop"


def test_fapi2_client_with_par_and_dpop(node, issuer, runner, tmp_path):
    """A FAPI 2.0 client: PAR + private_key_jwt + DPoP, ES256, no refresh rotation."""
    key = ec_key()
    client = register_with_key(runner, tmp_path, key, "--scope", "openid profile offline_access",
                               "--profile", "fapi2")
    result = run_flow(node, issuer, client, make_user(), "--auth", "private_key_jwt", "--par",
                      "--dpop", "--id-token-alg", "ES256", jwk=key.as_dict(private=True))
    check_common(result, issuer, client["client_id"])
    assert result["token_type"].lower() == "dpop"
    assert result["refreshed"]["new_refresh_token"] is False
