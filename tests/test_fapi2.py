"""The FAPI 2.0 Security Profile per client (``profile = "fapi2"``): each requirement of
docs/FAPI2.md refused and accepted."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

import pytest
from flask import current_app
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select

from idp.clients import service
from idp.errors import DomainError
from idp.extensions import db
from idp.models import AuthorizationCode
from idp.oidc import fapi2
from idp.security.hashing import sha256

from .factories import auth_params, make_client, make_portal, make_user, query_of

ISSUER = "http://localhost"
TOKEN_URL = ISSUER + "/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def key():
    return ECKey.generate_key("P-256", {"alg": "ES256", "kid": "fapi-key"})


def make_fapi2(key, **overrides):
    """Register a first-party FAPI 2.0 portal authenticating with ``key``."""
    values = {"first_party": True, "profile": "fapi2",
              "jwks": {"keys": [key.as_dict(private=False)]}}
    values.update(overrides)
    client, secret = make_portal(**values)
    assert secret is None
    return client


def assertion(key, client_id, clock, aud=ISSUER, iat_offset=0, alg=None):
    issued = int(clock.now().timestamp()) + iat_offset
    claims = {"iss": client_id, "sub": client_id, "aud": aud, "jti": secrets.token_hex(8),
              "iat": issued, "exp": issued + 60}
    alg = alg or key.alg
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def key_auth(key, client, clock, **kw) -> dict:
    return {"client_id": client.client_id, "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(key, client.client_id, clock, **kw)}


DPOP_KEY = ECKey.generate_key("P-256")


def dpop_proof(clock, url=TOKEN_URL, method="POST", token=None) -> str:
    """A DPoP proof (RFC 9449) of the portal's DPoP key for one request."""
    claims = {"jti": secrets.token_urlsafe(12), "htm": method, "htu": url,
              "iat": int(clock.now().timestamp())}
    if token is not None:
        digest = hashlib.sha256(token.encode()).digest()
        claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": DPOP_KEY.as_dict(private=False)}
    return jwt.encode(header, claims, DPOP_KEY, algorithms=["ES256"])


def exchange(oidc, client, key, clock, code, params, dpop=True, **kw):
    """Redeem ``code`` with a client assertion and (unless ``dpop`` is false) a DPoP proof."""
    headers = {"DPoP": dpop_proof(clock)} if dpop else {}
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": params["redirect_uri"], "code_verifier": params["_verifier"],
            **key_auth(key, client, clock, **kw)}
    return oidc.client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None},
                          headers=headers)


def fapi_authorize(oidc, rp, key, params):
    """Push ``params`` to /par with a client assertion (a FAPI 2.0 client must), then send
    the browser to /authorize with the request_uri. A refused push is its JSON answer."""
    clock = current_app.extensions["idp.clock"]
    data = {k: v for k, v in params.items() if not k.startswith("_") and v is not None}
    pushed = oidc.client.post("/par", data={**data, **key_auth(key, rp, clock)})
    if pushed.status_code != 201:
        return pushed
    return oidc.client.get("/authorize", query_string={
        "client_id": rp.client_id, "request_uri": pushed.json["request_uri"]})


def outcome(response) -> dict:
    """The answer to an authorization request: the PAR endpoint's JSON error, or the
    parameters of the redirect to the portal."""
    if response.status_code in (400, 401):
        return response.json
    return query_of(response)


def fapi_code(oidc, rp, key, **extra) -> tuple[str, dict]:
    """Run a pushed authorization request (signed in, first party); return the code and
    the parameters."""
    params = auth_params(rp, **extra)
    answer = outcome(fapi_authorize(oidc, rp, key, params))
    assert "code" in answer, answer
    return answer["code"], params


def refused(code: str, **values):
    with pytest.raises(DomainError) as caught:
        make_portal(**values)
    assert caught.value.code == code
    return caught.value


# -- registration -----------------------------------------------------------------------
def test_fapi2_defaults_to_private_key_jwt_and_es256(app, key):
    """A FAPI 2.0 client without a method gets private_key_jwt; the profile is stored."""
    client = make_fapi2(key)
    assert client.token_endpoint_auth_method == "private_key_jwt"
    assert client.profile == "fapi2" and fapi2.is_fapi2(client)
    assert service.client_summary(client)["profile"] == "fapi2"
    plain, _ = make_portal()
    assert plain.profile is None and not fapi2.is_fapi2(plain)


def test_fapi2_refuses_public_clients(app):
    """§5.3.2.1 (3): only confidential clients."""
    refused("fapi2_public_client", client_type="public", profile="fapi2",
            id_token_signed_response_alg="ES256")


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_fapi2_refuses_secret_authentication(app, key, method):
    """§5.3.2.1 (6): private_key_jwt (mTLS is not offered); a change back is refused too."""
    refused("fapi2_auth_method", profile="fapi2", token_endpoint_auth_method=method,
            id_token_signed_response_alg="ES256")
    client = make_fapi2(key)
    with pytest.raises(DomainError) as caught:
        service.update_client(client.client_id, {"token_endpoint_auth_method": method})
    assert caught.value.code == "fapi2_auth_method"


@pytest.mark.parametrize("uri", ["ir.example.app:/cb", "http://rp.example.ir/cb"])
def test_fapi2_refuses_redirect_uris_that_are_not_https(app, key, uri):
    """§5.3.2.2 (8): https redirect URIs (http only on loopback)."""
    with pytest.raises(DomainError) as caught:
        make_fapi2(key, redirect_uris=[uri])
    assert caught.value.code in {"fapi2_redirect_uri", "redirect_uri_not_https"}
    assert caught.value.field == "redirect_uris"
    assert make_fapi2(key, redirect_uris=["http://127.0.0.1:8080/cb"]).redirect_uris


def test_fapi2_refuses_rs256(app, key):
    """§5.4.1: PS256, ES256 or EdDSA; RS256 ID tokens or introspection JWTs are refused."""
    with pytest.raises(DomainError) as caught:
        make_fapi2(key, id_token_signed_response_alg="RS256")
    assert caught.value.code == "fapi2_alg"
    with pytest.raises(DomainError) as caught:
        make_fapi2(key, introspection_signed_response_alg="RS256")
    assert caught.value.field == "introspection_signed_response_alg"
    assert make_fapi2(key, introspection_signed_response_alg="ES256")


def test_unknown_profile_is_refused(app, key):
    """Only "fapi2" is a profile."""
    with pytest.raises(DomainError) as caught:
        make_fapi2(key, profile="fapi1")
    assert caught.value.code == "profile_invalid"


def test_dcr_registers_a_fapi2_client(client, configure, key):
    """Dynamic registration over HTTP: ``profile`` and the signing algorithms are client
    metadata, echoed back; the defaults follow the profile; a secret method is refused."""
    from idp.clients import dcr

    configure(DCR_ENABLED=True)
    body = {"client_name": "بانک", "redirect_uris": ["https://bank.example.ir/cb"],
            "profile": "fapi2", "jwks": {"keys": [key.as_dict(private=False)]},
            "introspection_signed_response_alg": "ES256",
            "authorization_signed_response_alg": "ES256"}
    response = client.post("/connect/register", json=body, headers={
        "Authorization": f"Bearer {dcr.issue_initial_token('bank')[1]}"})
    assert response.status_code == 201, response.json
    registered = response.json
    assert "client_secret" not in registered
    assert registered["profile"] == "fapi2"
    assert registered["token_endpoint_auth_method"] == "private_key_jwt"
    assert registered["id_token_signed_response_alg"] == "ES256"
    assert registered["introspection_signed_response_alg"] == "ES256"
    assert registered["authorization_signed_response_alg"] == "ES256"
    refused_answer = client.post("/connect/register", json={
        **body, "token_endpoint_auth_method": "client_secret_basic"}, headers={
        "Authorization": f"Bearer {dcr.issue_initial_token('bank 2')[1]}"})
    assert refused_answer.status_code == 400
    assert refused_answer.json["error"] == "invalid_client_metadata"
    assert "fapi2_auth_method" in refused_answer.json["error_description"]


def test_cli_registers_a_fapi2_client(app, runner, key, tmp_path):
    """``flask clients create --profile fapi2`` defaults to private_key_jwt and ES256."""
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    result = runner.invoke(args=["clients", "create", "--name", "بانک", "--profile", "fapi2",
                                 "--redirect-uri", "https://bank.example.ir/cb",
                                 "--jwks", str(jwks), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["profile"] == "fapi2" and data["client_secret"] is None
    assert data["token_endpoint_auth_method"] == "private_key_jwt"
    assert data["id_token_signed_response_alg"] == "ES256"
    result = runner.invoke(args=["clients", "update", data["client_id"],
                                 "--auth-method", "client_secret_basic"])
    assert result.exit_code != 0 and "fapi2_auth_method" in result.output
    result = runner.invoke(args=["clients", "update", data["client_id"], "--profile", ""])
    assert result.exit_code == 0, result.output


# -- authorization endpoint ---------------------------------------------------------------
def test_fapi2_client_must_use_pkce_s256(app, client, oidc, key):
    """§5.3.2.2 (5): a confidential FAPI 2.0 client without PKCE is refused; plain too."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    answer = outcome(fapi_authorize(oidc, rp, key, auth_params(rp, code_challenge=None,
                                                 code_challenge_method=None)))
    assert answer["error"] == "invalid_request"  # answered to the client at /par, as JSON
    plain = outcome(fapi_authorize(oidc, rp, key, auth_params(rp, code_challenge_method="plain")))
    assert plain["error"] == "invalid_request"
    ok = outcome(fapi_authorize(oidc, rp, key, auth_params(rp)))
    assert "code" in ok
    # Other confidential clients may still omit PKCE (RFC 9700 §2.1.1 asks it of public ones).
    other, _ = make_portal(first_party=True)
    assert "code" in query_of(oidc.authorize(auth_params(other, code_challenge=None,
                                                         code_challenge_method=None)))


def test_fapi2_authorization_response_carries_iss(app, client, oidc, key):
    """§5.3.2.2 (7): ``iss`` in the authorization response (RFC 9207)."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    answer = outcome(fapi_authorize(oidc, rp, key, auth_params(rp)))
    assert answer["iss"] == ISSUER and answer["code"]


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token",
                                           "code token"])
def test_fapi2_only_response_type_code(app, client, oidc, key, response_type):
    """§5.3.2.2 (1): response_type code only; implicit and hybrid are refused."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    answer = outcome(fapi_authorize(oidc, rp, key, auth_params(rp, response_type=response_type)))
    assert answer["error"] == "unsupported_response_type"


@pytest.mark.parametrize("mode", ["fragment", "form_post"])
def test_fapi2_response_mode_is_query(app, client, oidc, key, mode):
    """The code travels in the query (or signed, JARM's ``jwt``), never in a fragment or
    an unsigned form post."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    response = fapi_authorize(oidc, rp, key, auth_params(rp, response_mode=mode))
    assert outcome(response)["error"] == "invalid_request"
    signed = fapi_authorize(oidc, rp, key, auth_params(rp, response_mode="jwt"))
    assert "response" in outcome(signed)


def test_fapi2_nonce_of_64_characters(app, client, clock, oidc, key):
    """§5.3.2.2 (14): nonce values up to 64 characters are supported."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    nonce = "n" * 64
    code, params = fapi_code(oidc, rp, key, nonce=nonce)
    response = exchange(oidc, rp, key, clock, code, params)
    assert response.status_code == 200, response.json
    assert oidc.decode(response.json["id_token"]).claims["nonce"] == nonce


# -- codes ------------------------------------------------------------------------------
def test_fapi2_codes_live_at_most_60_seconds(app, client, clock, configure, oidc, key):
    """§5.3.2.1 (11): 60 seconds whatever OIDC_CODE_TTL says; other clients keep it."""
    configure(OIDC_CODE_TTL=300)
    rp, other = make_fapi2(key), make_portal(first_party=True)[0]
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    other_code, _ = oidc.get_code(other)
    rows = {row.client_id: row for row in db.session.scalars(select(AuthorizationCode))}
    assert (rows[rp.client_id].expires_at - rows[rp.client_id].created_at).total_seconds() == 60
    assert (rows[other.client_id].expires_at
            - rows[other.client_id].created_at).total_seconds() == 300
    clock.advance(61)
    late = exchange(oidc, rp, key, clock, code, params)
    assert late.status_code == 400 and late.json["error"] == "invalid_grant"
    code, params = fapi_code(oidc, rp, key)
    clock.advance(59)
    assert exchange(oidc, rp, key, clock, code, params).status_code == 200
    assert sha256(other_code) == rows[other.client_id].code_hash


def test_fapi2_code_used_twice_is_refused(app, client, clock, oidc, key):
    """§5.3.2.2 (9): a code is refused when it was used before."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    assert exchange(oidc, rp, key, clock, code, params).status_code == 200
    again = exchange(oidc, rp, key, clock, code, params)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"


# -- client authentication ---------------------------------------------------------------
def test_fapi2_client_authenticates_only_with_private_key_jwt(app, client, clock, oidc, key):
    """§5.3.2.1 (6): a secret or no authentication at all is refused at run time."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    basic = oidc.exchange(rp, "a-guessed-secret", code, params)
    assert basic.status_code == 401 and basic.json["error"] == "invalid_client"
    none = oidc.exchange(rp, None, code, params, client_id=rp.client_id)
    assert none.json["error"] == "invalid_client"
    assert exchange(oidc, rp, key, clock, code, params).status_code == 200


@pytest.mark.parametrize("aud", [TOKEN_URL, [ISSUER], "https://elsewhere.example.ir"])
def test_fapi2_assertion_audience_is_the_issuer_string(app, client, clock, oidc, key, aud):
    """§5.3.2.1 (8): only the issuer identifier, as a string, in the assertion's ``aud``."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    wrong = exchange(oidc, rp, key, clock, code, params, aud=aud)
    assert wrong.status_code in {400, 401} and wrong.json["error"] == "invalid_client"
    assert exchange(oidc, rp, key, clock, code, params).status_code == 200


def test_other_clients_may_still_name_the_token_endpoint(app, client, clock, oidc, key):
    """The issuer-only ``aud`` rule is the profile's; other clients keep RFC 7523's."""
    rp, _ = make_portal(first_party=True, token_endpoint_auth_method="private_key_jwt",
                        jwks={"keys": [key.as_dict(private=False)]})
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    assert exchange(oidc, rp, key, clock, code, params, aud=TOKEN_URL).status_code == 200


def test_fapi2_assertion_must_not_be_rs256(app, client, clock, oidc, key):
    """§5.4.1: an RS256 client assertion is refused; ES256 is accepted."""
    rsa = RSAKey.generate_key(2048, {"alg": "RS256", "kid": "rsa-key"})
    rp = make_fapi2(key, jwks={"keys": [key.as_dict(private=False),
                                        rsa.as_dict(private=False)]})
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    wrong = exchange(oidc, rp, rsa, clock, code, params)
    assert wrong.json["error"] == "invalid_client"
    assert exchange(oidc, rp, key, clock, code, params).status_code == 200


def test_fapi2_assertion_may_be_ps256(app, client, clock, oidc, key):
    """§5.4.1: PS256 is one of the profile's algorithms; an assertion signed with it works."""
    rsa = RSAKey.generate_key(2048, {"alg": "PS256", "kid": "ps-key"})
    rp = make_fapi2(key, jwks={"keys": [key.as_dict(private=False),
                                        rsa.as_dict(private=False)]})
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    response = exchange(oidc, rp, rsa, clock, code, params)
    assert response.status_code == 200, response.json


def test_fapi2_unsigned_assertion_is_refused(app, client, clock, oidc, key):
    """§5.4.1 (1.3): an ``alg: none`` client assertion is never accepted."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    issued = int(clock.now().timestamp())
    unsigned = ".".join([part({"alg": "none"}), part({
        "iss": rp.client_id, "sub": rp.client_id, "aud": ISSUER, "jti": "j-none",
        "iat": issued, "exp": issued + 60}), ""])
    response = oidc.exchange(rp, None, code, params, client_id=rp.client_id,
                             client_assertion_type=ASSERTION_TYPE, client_assertion=unsigned)
    assert response.json["error"] == "invalid_client"
    assert exchange(oidc, rp, key, clock, code, params).status_code == 200


@pytest.mark.parametrize(("offset", "accepted"), [(10, True), (60, True), (61, False),
                                                  (120, False)])
def test_fapi2_assertion_iat_in_the_future(app, client, clock, oidc, key, offset, accepted):
    """§5.3.2.1 (13): iat up to 10 s ahead is accepted (here 60), beyond 60 s refused."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    response = exchange(oidc, rp, key, clock, code, params, iat_offset=offset)
    assert (response.status_code == 200) is accepted, response.json


def test_fapi2_password_grant_is_refused(app, client, clock, key):
    """§5.3.2.1 (2): the resource owner password credentials grant is refused."""
    rp = make_fapi2(key)
    response = client.post("/oauth/token", data={
        "grant_type": "password", "username": "x", "password": "y",
        **key_auth(key, rp, clock)})
    assert response.status_code == 400
    assert response.json["error"] in {"unsupported_grant_type", "unauthorized_client"}


# -- tokens -----------------------------------------------------------------------------
def test_fapi2_refresh_token_is_not_rotated(app, client, clock, oidc, key):
    """§5.3.2.1 (9): a refresh keeps the refresh token (no new one, the old one works)."""
    rp = make_fapi2(key, scope="openid profile offline_access")
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key, scope="openid profile offline_access")
    first = exchange(oidc, rp, key, clock, code, params).json
    refresh_token = first["refresh_token"]
    for _ in range(2):
        response = client.post("/oauth/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            **key_auth(key, rp, clock)}, headers={"DPoP": dpop_proof(clock)})
        assert response.status_code == 200, response.json
        assert "refresh_token" not in response.json
        assert response.json["access_token"] != first["access_token"]
    # Revoking it still ends the grant.
    client.post("/oauth/revoke", data={"token": refresh_token, **key_auth(key, rp, clock)})
    ended = client.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh_token,
        **key_auth(key, rp, clock)}, headers={"DPoP": dpop_proof(clock)})
    assert ended.json["error"] == "invalid_grant"


def test_fapi2_tokens_are_signed_with_es256(app, client, clock, oidc, key):
    """§5.4.1: access and ID tokens for a FAPI 2.0 client are ES256; others keep RS256."""
    rp = make_fapi2(key)
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    body = exchange(oidc, rp, key, clock, code, params).json
    assert oidc.decode(body["access_token"]).header["alg"] == "ES256"
    assert oidc.decode(body["id_token"]).header["alg"] == "ES256"
    other, secret = make_portal(first_party=True)
    plain = oidc.tokens_for(other, secret, make_user())
    assert oidc.decode(plain["access_token"]).header["alg"] == "RS256"
    # The ES256 access token, bound to the DPoP key, works at UserInfo with a proof.
    token = body["access_token"]
    info = client.get("/userinfo", headers={
        "Authorization": f"DPoP {token}",
        "DPoP": dpop_proof(clock, ISSUER + "/userinfo", "GET", token)})
    assert body["token_type"] == "DPoP" and info.status_code == 200, info.json


def test_fapi2_credentials_have_128_bits_or_more(app, client, clock, oidc, key):
    """§5.4.1 (4): codes and refresh tokens carry at least 128 bits of entropy."""
    rp = make_fapi2(key, scope="openid offline_access")
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key, scope="openid offline_access")
    body = exchange(oidc, rp, key, clock, code, params).json
    # URL-safe characters carry 6 bits each (Authlib's codes: 48 of 62 characters, ~5.95).
    assert len(code) * 5.9 >= 128
    assert len(body["refresh_token"]) * 6 >= 256


# -- PAR and DPoP (idp.oidc.par, idp.oidc.dpop) ----------------------------------------
def test_fapi2_client_requires_par(app, client, oidc, key):
    """§5.3.2.2 (2–4, 6, 12): authorization requests of a FAPI 2.0 client without PAR are
    refused."""
    from idp.oidc import par

    rp = make_fapi2(key)
    assert par.par_required(rp)
    oidc.sign_in(make_user())
    answer = query_of(oidc.authorize(auth_params(rp)))  # not pushed
    assert answer["error"] == "invalid_request"
    assert "code" in outcome(fapi_authorize(oidc, rp, key, auth_params(rp)))  # pushed


def test_fapi2_client_requires_dpop(app, client, clock, oidc, key):
    """§5.3.2.1 (4, 5): a FAPI 2.0 client's token request without a DPoP proof is refused."""
    from idp.oidc import dpop

    rp = make_fapi2(key)
    assert dpop.dpop_required(rp)
    oidc.sign_in(make_user())
    code, params = fapi_code(oidc, rp, key)
    response = exchange(oidc, rp, key, clock, code, params, dpop=False)
    assert response.status_code == 400 and response.json["error"] == "invalid_dpop_proof"
    assert exchange(oidc, rp, key, clock, code, params).status_code == 200  # with a proof


def test_make_client_is_not_fapi2_by_default(app):
    """The profile is opt-in."""
    assert make_client()[0].profile is None
