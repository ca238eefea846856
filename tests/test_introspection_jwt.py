"""Signed introspection answers (RFC 9701): JWTs for the clients registered for them."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from idp.clients import service

from .factories import make_portal, make_user

JWT_TYPE = "application/token-introspection+jwt"


def introspect(browser, client, secret, token, accept=JWT_TYPE):
    return browser.post("/oauth/introspect", data={"token": token},
                        auth=(client.client_id, secret), headers={"Accept": accept})


def verified(browser, response):
    """Verify a signed answer with the published JWKS, as a resource server would."""
    keys = KeySet.import_key_set(browser.get("/jwks.json").json)
    return jwt.decode(response.get_data(as_text=True), keys, algorithms=["RS256", "ES256"])


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_registered_client_gets_a_jwt_verified_with_the_jwks(app, client, oidc, clock, alg):
    """Accept: application/token-introspection+jwt → a JWT signed with the IdP's key."""
    rp, secret = make_portal(first_party=True, introspection_signed_response_alg=alg)
    body = oidc.tokens_for(rp, secret, make_user())
    response = introspect(client, rp, secret, body["access_token"])
    assert response.status_code == 200
    assert response.mimetype == JWT_TYPE
    token = verified(client, response)
    assert token.header["typ"] == "token-introspection+jwt"
    assert token.header["alg"] == alg
    claims = token.claims
    assert claims["iss"] == "http://localhost"
    assert claims["aud"] == rp.client_id
    assert claims["iat"] == int(clock.now().timestamp())
    answer = claims["token_introspection"]
    assert answer["active"] is True
    assert answer["client_id"] == rp.client_id
    assert answer["token_type"] == "Bearer"
    # The JSON answer to the same question carries the same members.
    plain = introspect(client, rp, secret, body["access_token"], accept="application/json")
    assert plain.json == answer


def test_inactive_token_is_a_signed_inactive_answer(app, client, oidc):
    """An unknown or revoked token is ``{"active": false}`` inside the signed JWT."""
    rp, secret = make_portal(first_party=True, introspection_signed_response_alg="RS256")
    response = introspect(client, rp, secret, "nonsense")
    assert response.mimetype == JWT_TYPE
    assert verified(client, response).claims["token_introspection"] == {"active": False}
    body = oidc.tokens_for(rp, secret, make_user())
    client.post("/oauth/revoke", data={"token": body["refresh_token"]},
                auth=(rp.client_id, secret))
    revoked = introspect(client, rp, secret, body["access_token"])
    assert verified(client, revoked).claims["token_introspection"] == {"active": False}


def test_unregistered_client_gets_plain_json(app, client, oidc):
    """A client not registered for signed answers gets JSON even when it asks for a JWT."""
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user())
    response = introspect(client, rp, secret, body["access_token"])
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json["active"] is True


@pytest.mark.parametrize("accept", ["application/json", "*/*", "",
                                    f"application/json, {JWT_TYPE};q=0.5"])
def test_registered_client_gets_json_unless_it_prefers_the_jwt(app, client, oidc, accept):
    """JSON stays the answer for any Accept that does not prefer the JWT type."""
    rp, secret = make_portal(first_party=True, introspection_signed_response_alg="ES256")
    body = oidc.tokens_for(rp, secret, make_user())
    response = introspect(client, rp, secret, body["access_token"], accept=accept)
    assert response.mimetype == "application/json"
    assert response.json["active"] is True


def test_errors_stay_json(app, client):
    """A failed client authentication is RFC 6749 JSON, never a JWT."""
    rp, _ = make_portal(first_party=True, introspection_signed_response_alg="RS256")
    response = introspect(client, rp, "wrong", "x")
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"


def test_discovery_lists_the_algorithms(client):
    """Discovery advertises introspection_signing_alg_values_supported (RFC 9701 §7)."""
    document = client.get("/.well-known/openid-configuration").json
    assert document["introspection_signing_alg_values_supported"] == ["RS256", "ES256"]


def test_registration_checks_the_algorithm(app):
    """Only RS256 and ES256 (or nothing) may be registered; an empty value means none."""
    from idp.errors import DomainError

    with pytest.raises(DomainError) as caught:
        make_portal(first_party=True, introspection_signed_response_alg="HS256")
    assert caught.value.code == "introspection_alg_invalid"
    rp, _ = make_portal(first_party=True, introspection_signed_response_alg="")
    assert rp.introspection_signed_response_alg is None
    changed, _ = service.update_client(rp.client_id,
                                       {"introspection_signed_response_alg": "ES256"})
    assert changed.introspection_signed_response_alg == "ES256"
    assert service.client_summary(changed)["introspection_signed_response_alg"] == "ES256"
