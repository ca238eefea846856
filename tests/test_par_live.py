"""PAR (RFC 9126) and a signed request object over real HTTP, driven by Authlib's
OAuth2Session as a portal would (the live IdP of ``test_oidc_live``)."""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from .factories import make_user
from .test_oidc_live import (  # noqa: F401 (fixtures)
    CALLBACK,
    app_config,
    browser_sign_in,
    cli_client,
    issuer,
    live_server,
    validate_id_token,
)

PORTAL_KEY = RSAKey.generate_key(2048, {"kid": "portal-1"})


def test_a_relying_party_pushes_its_request_then_runs_the_code_flow(issuer, runner, tmp_path):  # noqa: F811
    """Discovery → PAR (client_secret_basic, a signed request object) → browser at
    /authorize with request_uri → code → tokens → ID token checked."""
    keys_file = tmp_path / "jwks.json"
    keys_file.write_text(json.dumps({"keys": [PORTAL_KEY.as_dict(private=False)]}))
    portal = cli_client(runner, "--name", "پورتال PAR", "--redirect-uri", CALLBACK,
                        "--require-par", "--jwks", str(keys_file),
                        "--request-object-alg", "PS256")
    meta = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    assert "PS256" in meta["request_object_signing_alg_values_supported"]
    par_endpoint = meta["pushed_authorization_request_endpoint"]

    rp = OAuth2Session(portal["client_id"], portal["client_secret"], scope="openid profile",
                      redirect_uri=CALLBACK, code_challenge_method="S256")
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
    # The library builds the request; its parameters go into a request object instead of
    # the browser's URL.
    url, state = rp.create_authorization_url(meta["authorization_endpoint"],
                                             code_verifier=verifier, nonce=nonce)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    now = int(time.time())
    request_object = jwt.encode(
        {"alg": "PS256", "kid": "portal-1"},
        {**params, "iss": portal["client_id"], "aud": issuer, "iat": now, "exp": now + 120,
         "jti": secrets.token_urlsafe(12)}, PORTAL_KEY, algorithms=["PS256"])
    pushed = rp.post(par_endpoint, data={"request": request_object}, withhold_token=True,
                     auth=rp.client_auth("client_secret_basic"))
    assert pushed.status_code == 201, pushed.text
    request_uri = pushed.json()["request_uri"]
    authorize_url = meta["authorization_endpoint"] + "?" + urlencode(
        {"client_id": portal["client_id"], "request_uri": request_uri})

    with httpx.Client(follow_redirects=False) as browser:
        # A plain request from this client is refused: it must push.
        refused = browser.get(url)
        assert parse_qs(urlsplit(refused.headers["Location"]).query)["error"] == \
            ["invalid_request"]
        callback = browser_sign_in(browser, authorize_url, make_user())
        answer = parse_qs(urlsplit(callback).query)
        assert answer["iss"] == [issuer] and answer["state"] == [state]
        token = rp.fetch_token(meta["token_endpoint"], authorization_response=callback,
                               code_verifier=verifier, state=state)
        keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"]).json())
        validate_id_token(token["id_token"], keys, issuer, portal["client_id"], nonce)
        # Single use: the same request_uri again is refused with a page.
        again = browser.get(authorize_url)
        assert again.status_code == 400 and "Location" not in again.headers
