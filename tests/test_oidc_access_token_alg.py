"""``OIDC_ACCESS_TOKEN_ALG``: the signature of JWT access tokens (RS256 unless set)."""

from __future__ import annotations

import pytest

from .factories import make_client, make_portal, make_user


def test_access_tokens_are_rs256_by_default(app, client, oidc):
    """RFC 9068 §2.1: RS256 is what every resource server supports."""
    service, secret = make_client(client_type="service", redirect_uris=[], scope="profile")
    body = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                       auth=(service.client_id, secret)).json
    assert oidc.decode(body["access_token"]).header["alg"] == "RS256"


def test_es256_access_tokens_work_everywhere(app, make_app, oidc):
    """ES256 access tokens verify against the JWKS and pass UserInfo and introspection;
    the ID token keeps the client's algorithm, and its at_hash follows that algorithm."""
    es256 = make_app(OIDC_ACCESS_TOKEN_ALG="ES256")
    browser = es256.test_client()
    with es256.app_context():
        rp, secret = make_portal(first_party=True)
        body = oidc.tokens_for(rp, secret, make_user(), browser=browser)
        auth = (rp.client_id, secret)
    access = oidc.decode(browser=browser, token=body["access_token"])
    assert access.header["alg"] == "ES256" and access.header["typ"] == "at+jwt"
    assert oidc.decode(browser=browser, token=body["id_token"]).header["alg"] == "RS256"
    userinfo = browser.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert userinfo.status_code == 200 and userinfo.json["sub"] == access.claims["sub"]
    introspected = browser.post("/oauth/introspect", data={"token": body["access_token"]},
                                auth=auth).json
    assert introspected["active"] is True and introspected["jti"] == access.claims["jti"]


@pytest.mark.parametrize("alg", ["HS256", "none", ""])
def test_an_unknown_access_token_algorithm_is_refused_at_start(make_app, alg):
    """A typo must not reach the first token request."""
    with pytest.raises(SystemExit, match="OIDC_ACCESS_TOKEN_ALG"):
        make_app(OIDC_ACCESS_TOKEN_ALG=alg)
