"""Signed request objects (RFC 9101, OIDC Core §6.1): by value at ``/authorize`` and
inside a pushed authorization request."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from idp.clients.service import update_client
from idp.errors import DomainError

from .factories import RP_REDIRECT, make_portal, make_user, pkce_pair, query_of

ISSUER = "http://localhost"
RSA_KEY = RSAKey.generate_key(2048, {"kid": "rsa-1"})
EC_KEY = ECKey.generate_key("P-256", {"kid": "ec-1"})
STRANGER = RSAKey.generate_key(2048, {"kid": "rsa-1"})  # same kid, not registered
JWKS = {"keys": [RSA_KEY.as_dict(private=False), EC_KEY.as_dict(private=False)]}


@pytest.fixture
def rp(app):
    """A first-party portal with its public keys registered, and its secret."""
    return make_portal(first_party=True, jwks=JWKS)


def request_object(rp, clock, key=RSA_KEY, alg="RS256", drop=(), **claims) -> tuple[str, str]:
    """Return a signed request object for ``rp`` and its PKCE verifier."""
    verifier, challenge = pkce_pair()
    now = int(clock.now().timestamp())
    body = {"iss": rp.client_id, "aud": ISSUER, "client_id": rp.client_id,
            "response_type": "code", "redirect_uri": RP_REDIRECT, "scope": "openid profile",
            "state": "inner", "nonce": "n-inner", "code_challenge": challenge,
            "code_challenge_method": "S256", "iat": now, "exp": now + 300,
            "jti": secrets.token_urlsafe(12)}
    body.update(claims)
    for name in drop:
        body.pop(name)
    return jwt.encode({"alg": alg, "kid": key.kid}, body, key, algorithms=[alg]), verifier


def authorize(http, rp, request: str, **outer):
    """/authorize with the request object and the query parameters OIDC Core §6.1 keeps
    outside (a registered redirect_uri, so errors come back to the portal)."""
    return http.get("/authorize", query_string={
        "client_id": rp.client_id, "response_type": "code", "scope": "openid",
        "redirect_uri": RP_REDIRECT, "state": "outer", "request": request, **outer})


def refused(response, error="invalid_request_object") -> dict:
    assert response.status_code == 302, response.get_data(as_text=True)
    answer = query_of(response)
    assert answer["error"] == error, answer
    assert answer["state"] == "outer" and answer["iss"] == ISSUER
    return answer


def exchange(oidc, rp, secret, code, verifier):
    return oidc.exchange(rp, secret, code, {"redirect_uri": RP_REDIRECT, "_verifier": verifier})


# -- happy paths -------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "alg"), [(RSA_KEY, "RS256"), (RSA_KEY, "PS256"),
                                          (EC_KEY, "ES256")])
def test_a_signed_request_object_by_value(rp, client, oidc, clock, key, alg):
    """The request object's parameters are the ones used: its state, nonce and scope."""
    portal, secret = rp
    signed, verifier = request_object(portal, clock, key, alg, scope="openid phone")
    oidc.sign_in(make_user())
    answer = query_of(authorize(client, portal, signed, scope="openid profile email"))
    assert answer["state"] == "inner", answer
    tokens = exchange(oidc, portal, secret, answer["code"], verifier)
    assert tokens.status_code == 200, tokens.json
    assert tokens.json["scope"] == "openid phone"
    assert oidc.decode(tokens.json["id_token"]).claims["nonce"] == "n-inner"


def test_claims_and_max_age_may_be_json_values(rp, client, oidc, clock):
    """OIDC Core §6.1: ``claims`` is a JSON object and ``max_age`` a number inside."""
    portal, secret = rp
    signed, verifier = request_object(
        portal, clock, max_age=600, claims={"id_token": {"phone_number": None}},
        scope="openid phone")
    oidc.sign_in(make_user())
    code = query_of(authorize(client, portal, signed))["code"]
    tokens = exchange(oidc, portal, secret, code, verifier)
    assert "phone_number" in oidc.decode(tokens.json["id_token"]).claims


def test_a_pushed_request_may_carry_a_request_object(rp, client, oidc, clock):
    portal, secret = rp
    signed, verifier = request_object(portal, clock)
    response = client.post("/par", data={"client_id": portal.client_id, "request": signed},
                           auth=(portal.client_id, secret))
    assert response.status_code == 201, response.json
    oidc.sign_in(make_user())
    answer = query_of(client.get("/authorize", query_string={
        "client_id": portal.client_id, "request_uri": response.json["request_uri"]}))
    assert answer["state"] == "inner"
    assert exchange(oidc, portal, secret, answer["code"], verifier).status_code == 200


# -- refused request objects ---------------------------------------------------------------
def unsigned(rp, clock) -> str:
    signed, _ = request_object(rp, clock)
    payload = signed.split(".")[1]
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    return f"{header.decode()}.{payload}."


def test_an_unsigned_request_object_is_refused(rp, client, oidc, clock):
    portal, _ = rp
    oidc.sign_in(make_user())
    refused(authorize(client, portal, unsigned(portal, clock)))


@pytest.mark.parametrize(("claims", "drop"), [
    ({"aud": "https://other-idp.example.ir"}, ()),  # wrong audience
    ({"iss": "someone-else"}, ()),  # wrong issuer
    ({"client_id": "someone-else"}, ()),  # client_id inside differs from the outer one
    ({}, ("exp",)),  # exp is required
    ({}, ("jti",)),  # jti is required (replay detection)
    ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, ()),  # nested
    ({"scope": ["openid"]}, ()),  # not a text value
    ({"jti": "a\x00b"}, ()),  # stored: PostgreSQL text cannot hold NUL
    ({"jti": 7}, ()),
])
def test_request_objects_with_wrong_claims_are_refused(rp, client, oidc, clock, claims, drop):
    portal, _ = rp
    oidc.sign_in(make_user())
    signed, _ = request_object(portal, clock, drop=drop, **claims)
    refused(authorize(client, portal, signed))


def test_an_expired_request_object_is_refused(rp, client, oidc, clock):
    portal, _ = rp
    signed, _ = request_object(portal, clock)
    oidc.sign_in(make_user())
    clock.advance(300 + 31)  # past exp and the 30 s leeway
    refused(authorize(client, portal, signed))


def test_a_request_object_living_too_long_is_refused(rp, client, oidc, clock):
    """exp at most 60 minutes after now (and after iat)."""
    portal, _ = rp
    now = int(clock.now().timestamp())
    oidc.sign_in(make_user())
    signed, _ = request_object(portal, clock, exp=now + 3601)
    refused(authorize(client, portal, signed))
    signed, _ = request_object(portal, clock, iat=now - 600, exp=now + 3100)
    refused(authorize(client, portal, signed))
    signed, _ = request_object(portal, clock, exp=now + 3600)
    assert "code" in query_of(authorize(client, portal, signed))


def test_a_request_object_not_yet_valid_is_refused(rp, client, oidc, clock):
    portal, _ = rp
    oidc.sign_in(make_user())
    signed, _ = request_object(portal, clock, nbf=int(clock.now().timestamp()) + 120)
    refused(authorize(client, portal, signed))
    clock.advance(120)
    assert "code" in query_of(authorize(client, portal, signed))


def test_a_replayed_request_object_is_refused(rp, client, oidc, clock):
    """The same jti twice while the object is valid: the second is a replay."""
    portal, _ = rp
    oidc.sign_in(make_user())
    signed, _ = request_object(portal, clock)
    assert "code" in query_of(authorize(client, portal, signed))
    refused(authorize(client, portal, signed))


def test_a_refused_object_does_not_use_up_its_jti(rp, client, oidc, clock):
    """The jti is recorded only once every other check passed."""
    portal, _ = rp
    oidc.sign_in(make_user())
    signed, _ = request_object(portal, clock, jti="same", nbf=int(clock.now().timestamp()) + 60)
    refused(authorize(client, portal, signed))
    clock.advance(60)
    assert "code" in query_of(authorize(client, portal, signed))


def test_a_signature_by_an_unregistered_key_is_refused(rp, client, oidc, clock):
    portal, _ = rp
    oidc.sign_in(make_user())
    signed, _ = request_object(portal, clock, key=STRANGER)
    refused(authorize(client, portal, signed))


def test_a_client_without_keys_cannot_send_request_objects(app, client, oidc, clock):
    portal, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    signed, _ = request_object(portal, clock)
    refused(authorize(client, portal, signed))


def test_a_required_algorithm_must_be_used(app, client, oidc, clock):
    """request_object_signing_alg: objects signed otherwise, and plain requests, are refused."""
    portal, _ = make_portal(first_party=True, jwks=JWKS, request_object_signing_alg="ES256")
    oidc.sign_in(make_user())
    signed, _ = request_object(portal, clock, RSA_KEY, "RS256")
    refused(authorize(client, portal, signed))
    refused(client.get("/authorize", query_string={
        "client_id": portal.client_id, "response_type": "code", "scope": "openid",
        "redirect_uri": RP_REDIRECT, "state": "outer", "code_challenge": pkce_pair()[1],
        "code_challenge_method": "S256"}), "invalid_request")
    signed, _ = request_object(portal, clock, EC_KEY, "ES256")
    assert "code" in query_of(authorize(client, portal, signed))


def test_without_a_registered_redirect_uri_the_error_is_a_page(rp, client, clock):
    portal, _ = rp
    response = client.get("/authorize", query_string={
        "client_id": portal.client_id, "request": unsigned(portal, clock)})
    assert response.status_code == 400 and "Location" not in response.headers


def test_a_bad_request_object_at_par_is_a_json_error(rp, client, clock):
    portal, secret = rp
    response = client.post("/par", data={"client_id": portal.client_id,
                                         "request": unsigned(portal, clock)},
                           auth=(portal.client_id, secret))
    assert response.status_code == 400 and response.json["error"] == "invalid_request_object"


def test_a_client_requiring_signed_requests_must_sign_what_it_pushes(app, client, clock):
    portal, secret = make_portal(first_party=True, jwks=JWKS, request_object_signing_alg="RS256")
    signed, verifier = request_object(portal, clock)
    plain = {"client_id": portal.client_id, "response_type": "code", "scope": "openid",
             "redirect_uri": RP_REDIRECT, "code_challenge": pkce_pair()[1],
             "code_challenge_method": "S256"}
    response = client.post("/par", data=plain, auth=(portal.client_id, secret))
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    response = client.post("/par", data={"request": signed}, auth=(portal.client_id, secret))
    assert response.status_code == 201


# -- registration rules --------------------------------------------------------------------
def test_request_object_alg_must_be_supported_and_needs_keys(app):
    portal, _ = make_portal(jwks=JWKS)
    with pytest.raises(DomainError) as refused_alg:
        update_client(portal.client_id, {"request_object_signing_alg": "none"})
    assert refused_alg.value.code == "request_object_alg_invalid"
    keyless, _ = make_portal()
    with pytest.raises(DomainError) as no_keys:
        update_client(keyless.client_id, {"request_object_signing_alg": "RS256"})
    assert no_keys.value.code == "request_object_jwks_required"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("raw", [
    "a.b.c", "..", "é.é.é", "x" * 9000, _b64(b"[1]") + ".e30.sig",
    _b64(b'{"alg": 1}') + ".e30.x", _b64(b'{"alg": "RS256", "kid": 5}') + ".e30.AAAA",
    _b64(b'{"alg": "RS256", "crit": ["x"]}') + ".e30.AAAA",
    _b64(b'{"alg": "RS256"}') + "." + _b64(b"[]") + ".AAAA",
    "a.b.c.d.e",  # JWE: not supported
])
def test_hostile_request_objects_are_refused_never_a_500(rp, client, oidc, raw):
    portal, secret = rp
    oidc.sign_in(make_user())
    refused(authorize(client, portal, raw))
    response = client.post("/par", data={"request": raw}, auth=(portal.client_id, secret))
    assert response.status_code == 400
    assert response.json["error"] in ("invalid_request_object", "invalid_request")
