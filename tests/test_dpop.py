"""DPoP (RFC 9449): proofs at the token endpoint and UserInfo, bound tokens, nonces.

Proofs are made by hand with joserfc, as a client library would, with EC P-256, RSA
(PS256) and Ed25519 keys; the test clock dates them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from sqlalchemy import select

from idp.clients import dcr
from idp.extensions import db
from idp.models import AuthorizationCode, Client, TokenFamily
from idp.oidc import dpop
from idp.settings import SettingsError

from .factories import auth_params, make_client, make_portal, make_user, query_of

ISSUER = "http://localhost"
TOKEN_URL = ISSUER + "/oauth/token"
USERINFO_URL = ISSUER + "/userinfo"


class Holder:
    """A client's DPoP key pair and the proofs it makes."""

    def __init__(self, key, alg: str):
        self.key, self.alg = key, alg

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(self, clock, htm="POST", htu=TOKEN_URL, token=None, header=None, drop=(),
              **claims) -> str:
        """Sign a proof; ``header``/``claims`` override members, ``drop`` removes them."""
        head = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.key.as_dict(private=False),
                **(header or {})}
        body = {"jti": secrets.token_urlsafe(12), "htm": htm, "htu": htu,
                "iat": int(clock.now().timestamp())}
        if token is not None:
            body["ath"] = ath(token)
        body.update(claims)
        for name in drop:
            head.pop(name, None)
            body.pop(name, None)
        return jwt.encode(head, body, self.key, algorithms=[head["alg"]])


def ath(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def ec():
    return Holder(ECKey.generate_key("P-256"), "ES256")


@pytest.fixture(scope="module")
def other():
    return Holder(ECKey.generate_key("P-256"), "ES256")


@pytest.fixture(scope="module")
def rsa():
    return Holder(RSAKey.generate_key(2048), "PS256")


@pytest.fixture(scope="module")
def ed():
    return Holder(OKPKey.generate_key("Ed25519"), "Ed25519")


def exchange(oidc, rp, secret, code, params, proof=None, client=None):
    """Redeem a code, with a DPoP header when ``proof`` is given (a list: several)."""
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": params["redirect_uri"], "code_verifier": params["_verifier"]}
    if secret is None:
        data["client_id"] = rp.client_id
    headers = [] if proof is None else [("DPoP", p) for p in
                                        (proof if isinstance(proof, list) else [proof])]
    return (client or oidc.client).post("/oauth/token", data=data, headers=headers,
                                        auth=(rp.client_id, secret) if secret else None)


def refresh(client, rp, secret, token, proof=None):
    data = {"grant_type": "refresh_token", "refresh_token": token}
    if secret is None:
        data["client_id"] = rp.client_id
    return client.post("/oauth/token", data=data, headers={"DPoP": proof} if proof else {},
                       auth=(rp.client_id, secret) if secret else None)


def userinfo(client, token, proof=None, scheme="DPoP", method="GET"):
    headers = {"Authorization": f"{scheme} {token}"}
    if proof:
        headers["DPoP"] = proof
    return client.open("/userinfo", method=method, headers=headers)


def introspect(client, rp, secret, token):
    return client.post("/oauth/introspect", data={"token": token},
                       auth=(rp.client_id, secret)).json


def bound_tokens(oidc, clock, holder, rp=None, secret=None, **extra):
    """Sign in, authorize and exchange the code with a proof of ``holder``'s key."""
    if rp is None:
        rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp, **extra)
    response = exchange(oidc, rp, secret, code, params, holder.proof(clock))
    assert response.status_code == 200, response.json
    return response.json


def challenge(response) -> str:
    return " ".join(response.headers.getlist("WWW-Authenticate"))


# -- the token endpoint --------------------------------------------------------------------
@pytest.mark.parametrize("holder_name", ["ec", "rsa", "ed"])
def test_code_flow_binds_the_access_token_to_the_proof_key(app, client, clock, oidc, request,
                                                           holder_name):
    """A valid proof makes a DPoP token: token_type DPoP, cnf.jkt in the JWT, in
    introspection and on the grant row."""
    holder = request.getfixturevalue(holder_name)
    rp, secret = make_portal(first_party=True)
    body = bound_tokens(oidc, clock, holder, rp, secret)
    assert body["token_type"] == "DPoP"
    claims = oidc.decode(body["access_token"]).claims
    assert claims["cnf"] == {"jkt": holder.jkt}
    seen = introspect(client, rp, secret, body["access_token"])
    assert seen["active"] is True and seen["token_type"] == "DPoP"
    assert seen["cnf"] == {"jkt": holder.jkt}
    assert db.session.scalar(select(TokenFamily.dpop_jkt)) == holder.jkt


def test_the_thumbprint_is_rfc_7638s():
    """The jkt of RFC 7638 §3.1's example key is the RFC's own value."""
    key = {"kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
           "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhD"
                "R1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6C"
                "f0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1"
                "n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1"
                "jF44-csFCur-kEgU8awapJzKnqDKgw"}
    assert dpop.thumbprint(key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_bearer_exchange_is_unchanged(app, client, oidc):
    """Without a DPoP header nothing changes: a Bearer token without cnf."""
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user())
    assert body["token_type"] == "Bearer"
    assert "cnf" not in oidc.decode(body["access_token"]).claims
    assert introspect(client, rp, secret, body["access_token"])["token_type"] == "Bearer"
    assert userinfo(client, body["access_token"], scheme="Bearer").status_code == 200


def _hs256_proof(clock, holder):
    key = OctKey.generate_key(256)
    return jwt.encode({"typ": "dpop+jwt", "alg": "HS256", "jwk": holder.key.as_dict(False)},
                      {"jti": "x", "htm": "POST", "htu": TOKEN_URL,
                       "iat": int(clock.now().timestamp())}, key, algorithms=["HS256"])


def _none_proof(clock, holder):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    head = {"typ": "dpop+jwt", "alg": "none", "jwk": holder.key.as_dict(False)}
    body = {"jti": "y", "htm": "POST", "htu": TOKEN_URL, "iat": int(clock.now().timestamp())}
    return f"{part(head)}.{part(body)}."


def _badly_signed(clock, holder):
    """The header and claims of a proof of ``holder``, the signature of another key's."""
    head, body, _ = holder.proof(clock).split(".")
    stranger = Holder(ECKey.generate_key("P-256"), "ES256").proof(clock)
    return f"{head}.{body}.{stranger.split('.')[2]}"


def _private_key_in_header(clock, holder):
    return holder.proof(clock, header={"jwk": holder.key.as_dict(private=True)})


BAD_PROOFS = {
    "wrong htu": lambda clock, h: h.proof(clock, htu="http://localhost/oauth/other"),
    "host of the request, not the issuer": lambda clock, h: h.proof(
        clock, htu="http://attacker.example/oauth/token"),
    "wrong htm": lambda clock, h: h.proof(clock, htm="GET"),
    "stale iat": lambda clock, h: h.proof(clock, iat=int(clock.now().timestamp()) - 61),
    "future iat": lambda clock, h: h.proof(clock, iat=int(clock.now().timestamp()) + 30),
    "missing typ": lambda clock, h: h.proof(clock, drop=("typ",)),
    "wrong typ": lambda clock, h: h.proof(clock, header={"typ": "JWT"}),
    "missing jti": lambda clock, h: h.proof(clock, drop=("jti",)),
    "alg none": _none_proof,
    "HS256": _hs256_proof,
    "private key in header": _private_key_in_header,
    "bad signature": _badly_signed,
    "not a JWT": lambda clock, h: "not-a-proof",
    "two proofs": lambda clock, h: [h.proof(clock), h.proof(clock)],
}


@pytest.mark.parametrize("case", BAD_PROOFS)
def test_a_bad_proof_is_invalid_dpop_proof_and_the_code_survives(app, client, clock, oidc, ec,
                                                                  case):
    """Each bad proof → 400 invalid_dpop_proof; the code is left for a corrected retry."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    refused = exchange(oidc, rp, secret, code, params, BAD_PROOFS[case](clock, ec))
    assert refused.status_code == 400, refused.json
    assert refused.json["error"] == "invalid_dpop_proof"
    assert db.session.scalar(select(AuthorizationCode.used_at)) is None
    assert exchange(oidc, rp, secret, code, params, ec.proof(clock)).status_code == 200


def test_the_htu_is_compared_normalised(app, client, clock, oidc, ec):
    """RFC 9449 §4.3: scheme and host case, the default port, query and fragment ignored."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    proof = ec.proof(clock, htu="HTTP://LocalHost:80/oauth/token?x=1#f")
    assert exchange(oidc, rp, secret, code, params, proof).status_code == 200


def test_a_replayed_proof_is_refused(app, client, clock, oidc, ec):
    """The same proof twice: the second request is refused, within the iat window."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    proof = ec.proof(clock)
    code, params = oidc.get_code(rp)
    assert exchange(oidc, rp, secret, code, params, proof).status_code == 200
    code, params = oidc.get_code(rp)
    clock.advance(30)
    replay = exchange(oidc, rp, secret, code, params, proof)
    assert replay.status_code == 400 and replay.json["error"] == "invalid_dpop_proof"
    assert "used before" in replay.json["error_description"]


def test_replay_is_refused_by_another_instance(app, client, clock, oidc, ec, make_app):
    """The jti records live in the shared database: a proof used on one instance is
    refused by another."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    proof = ec.proof(clock)
    code, params = oidc.get_code(rp)
    assert exchange(oidc, rp, secret, code, params, proof).status_code == 200
    code, params = oidc.get_code(rp)
    second = make_app().test_client()
    replay = exchange(oidc, rp, secret, code, params, proof, client=second)
    assert replay.json["error"] == "invalid_dpop_proof"


def test_client_credentials_with_dpop(app, client, clock, ec):
    """A machine client's token is bound too."""
    service, secret = make_client(client_type="service", redirect_uris=[], scope="profile")
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(service.client_id, secret), headers={"DPoP": ec.proof(clock)})
    assert response.status_code == 200 and response.json["token_type"] == "DPoP"
    assert introspect(client, service, secret, response.json["access_token"])["cnf"] == {
        "jkt": ec.jkt}


def test_a_client_requiring_dpop_is_refused_without_a_proof(app, client, clock, oidc, ec):
    """dpop_bound_access_tokens: a token request without a proof is refused, every grant."""
    rp, secret = make_portal(first_party=True, dpop_bound_access_tokens=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    refused = exchange(oidc, rp, secret, code, params)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_dpop_proof"
    body = exchange(oidc, rp, secret, code, params, ec.proof(clock)).json
    assert body["token_type"] == "DPoP"
    assert refresh(client, rp, secret, body["refresh_token"]).json["error"] == \
        "invalid_dpop_proof"
    service, key = make_client(client_type="service", redirect_uris=[], scope="profile",
                               dpop_bound_access_tokens=True)
    refused = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(service.client_id, key))
    assert refused.json["error"] == "invalid_dpop_proof"


# -- refresh tokens --------------------------------------------------------------------------
def test_public_client_refresh_is_bound_to_the_key(app, client, clock, oidc, ec, other):
    """A public client's refresh token works only with a proof of the same key; a refused
    refresh leaves the token usable."""
    rp, _ = make_client(client_type="public", grant_types=["authorization_code",
                                                           "refresh_token"],
                        scope="openid profile offline_access", first_party=True)
    body = bound_tokens(oidc, clock, ec, rp, None, scope="openid offline_access")
    token = body["refresh_token"]
    for proof in (other.proof(clock), None):
        refused = refresh(client, rp, None, token, proof)
        assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    renewed = refresh(client, rp, None, token, ec.proof(clock))
    assert renewed.status_code == 200, renewed.json
    assert renewed.json["token_type"] == "DPoP"
    assert oidc.decode(renewed.json["access_token"]).claims["cnf"] == {"jkt": ec.jkt}
    api, api_secret = make_client(client_type="service", redirect_uris=[], scope="profile",
                                  is_resource_server=True)
    seen = introspect(client, api, api_secret, renewed.json["refresh_token"])
    assert seen["token_type"] == "refresh_token" and seen["cnf"] == {"jkt": ec.jkt}


def test_confidential_client_refresh_may_change_key_but_not_drop_dpop(app, client, clock, oidc,
                                                                      ec, other):
    """A confidential client authenticates, so a new key is accepted (the new token is
    bound to it); a grant begun with DPoP never falls back to Bearer."""
    rp, secret = make_portal(first_party=True)
    body = bound_tokens(oidc, clock, ec, rp, secret)
    refused = refresh(client, rp, secret, body["refresh_token"])
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    renewed = refresh(client, rp, secret, body["refresh_token"], other.proof(clock))
    assert renewed.status_code == 200
    assert oidc.decode(renewed.json["access_token"]).claims["cnf"] == {"jkt": other.jkt}
    assert "cnf" not in introspect(client, rp, secret, renewed.json["refresh_token"])


def test_a_bearer_grant_refreshes_as_before(app, client, oidc):
    """A grant made without DPoP refreshes without a proof, to a Bearer token."""
    rp, secret = make_portal(first_party=True)
    body = oidc.tokens_for(rp, secret, make_user())
    renewed = refresh(client, rp, secret, body["refresh_token"])
    assert renewed.status_code == 200 and renewed.json["token_type"] == "Bearer"


# -- dpop_jkt at /authorize ------------------------------------------------------------------
def test_dpop_jkt_binds_the_code(app, client, clock, oidc, ec, other):
    """RFC 9449 §10: a code requested with dpop_jkt is exchanged only with that key."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp, dpop_jkt=ec.jkt)
    assert db.session.scalar(select(AuthorizationCode.dpop_jkt)) == ec.jkt
    for proof in (other.proof(clock), None):
        refused = exchange(oidc, rp, secret, code, params, proof)
        assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    response = exchange(oidc, rp, secret, code, params, ec.proof(clock))
    assert response.status_code == 200 and response.json["token_type"] == "DPoP"


def test_dpop_jkt_survives_the_sign_in_hand_off(app, client, clock, oidc, ec):
    """A request parked while the citizen signs in keeps its dpop_jkt."""
    rp, _ = make_portal(first_party=True)
    parked = oidc.authorize(auth_params(rp, dpop_jkt=ec.jkt))
    assert parked.status_code == 302 and "/login" in parked.headers["Location"]
    oidc.sign_in(make_user())
    answer = client.get(query_of(parked)["next"])
    assert "code" in query_of(answer)
    assert db.session.scalar(select(AuthorizationCode.dpop_jkt)) == ec.jkt


def test_a_malformed_dpop_jkt_is_invalid_request(app, client, oidc):
    """dpop_jkt must be a base64url SHA-256 thumbprint: anything else is invalid_request."""
    rp, _ = make_portal(first_party=True)
    oidc.sign_in(make_user())
    answer = query_of(oidc.authorize(auth_params(rp, dpop_jkt="not a thumbprint")))
    assert answer["error"] == "invalid_request" and "dpop_jkt" in answer["error_description"]


# -- UserInfo ------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_userinfo_with_a_dpop_token(app, client, clock, oidc, ec, method):
    """Authorization: DPoP with a proof carrying ath answers the claims."""
    token = bound_tokens(oidc, clock, ec)["access_token"]
    response = userinfo(client, token, ec.proof(clock, method, USERINFO_URL, token=token),
                        method=method)
    assert response.status_code == 200, response.json
    assert response.json["sub"]


def test_a_bound_token_as_bearer_is_refused(app, client, clock, oidc, ec):
    """RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is refused."""
    token = bound_tokens(oidc, clock, ec)["access_token"]
    response = userinfo(client, token, scheme="Bearer")
    assert response.status_code == 401 and response.json["error"] == "invalid_token"
    assert 'DPoP error="invalid_token"' in challenge(response)
    with_proof = userinfo(client, token, ec.proof(clock, "GET", USERINFO_URL, token=token),
                          scheme="Bearer")
    assert with_proof.status_code == 401


def test_an_unbound_token_with_the_dpop_scheme_is_refused(app, client, clock, oidc, ec):
    """A Bearer token is not made DPoP by a proof of some key."""
    rp, secret = make_portal(first_party=True)
    token = oidc.tokens_for(rp, secret, make_user())["access_token"]
    response = userinfo(client, token, ec.proof(clock, "GET", USERINFO_URL, token=token))
    assert response.status_code == 401 and 'DPoP error="invalid_token"' in challenge(response)


USERINFO_BAD_PROOFS = {
    "proof of another key": lambda c, t, h, o: o.proof(c, "GET", USERINFO_URL, token=t),
    "missing ath": lambda c, t, h, o: h.proof(c, "GET", USERINFO_URL),
    "ath of another token": lambda c, t, h, o: h.proof(c, "GET", USERINFO_URL, token=t + "x"),
    "wrong htm": lambda c, t, h, o: h.proof(c, "POST", USERINFO_URL, token=t),
    "wrong htu": lambda c, t, h, o: h.proof(c, "GET", TOKEN_URL, token=t),
    "no proof": lambda c, t, h, o: None,
}


@pytest.mark.parametrize("case", USERINFO_BAD_PROOFS)
def test_userinfo_refuses_bad_proofs(app, client, clock, oidc, ec, other, case):
    """401 with WWW-Authenticate: DPoP error="invalid_dpop_proof" and the algorithms."""
    token = bound_tokens(oidc, clock, ec)["access_token"]
    response = userinfo(client, token, USERINFO_BAD_PROOFS[case](clock, token, ec, other))
    assert response.status_code == 401
    assert response.json["error"] == "invalid_dpop_proof"
    assert 'DPoP error="invalid_dpop_proof"' in challenge(response)
    assert 'algs="ES256 RS256 PS256 EdDSA Ed25519"' in challenge(response)


def test_userinfo_refuses_a_replayed_proof(app, client, clock, oidc, ec):
    """The same proof at UserInfo twice: the second is refused."""
    token = bound_tokens(oidc, clock, ec)["access_token"]
    proof = ec.proof(clock, "GET", USERINFO_URL, token=token)
    assert userinfo(client, token, proof).status_code == 200
    replay = userinfo(client, token, proof)
    assert replay.status_code == 401 and replay.json["error"] == "invalid_dpop_proof"


def test_a_missing_token_is_challenged_for_both_schemes(app, client):
    """No credentials: a Bearer and a DPoP challenge (RFC 9449 §7.1)."""
    response = client.get("/userinfo")
    assert response.status_code == 401
    assert "Bearer realm=" in challenge(response) and "DPoP algs=" in challenge(response)


# -- server nonces ---------------------------------------------------------------------------
def test_nonce_required_at_the_token_endpoint(app, client, clock, oidc, ec, configure):
    """DPOP_NONCE_REQUIRED: use_dpop_nonce with a DPoP-Nonce header, then success with it;
    a nonce from two periods ago is refused."""
    configure(DPOP_NONCE_REQUIRED=True)
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    code, params = oidc.get_code(rp)
    first = exchange(oidc, rp, secret, code, params, ec.proof(clock))
    assert first.status_code == 400 and first.json["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    wrong = exchange(oidc, rp, secret, code, params, ec.proof(clock, nonce="made-up"))
    assert wrong.json["error"] == "use_dpop_nonce"
    ok = exchange(oidc, rp, secret, code, params, ec.proof(clock, nonce=nonce))
    assert ok.status_code == 200 and ok.json["token_type"] == "DPoP"
    assert ok.headers["DPoP-Nonce"]
    clock.advance(600)
    stale = refresh(client, rp, secret, ok.json["refresh_token"], ec.proof(clock, nonce=nonce))
    assert stale.json["error"] == "use_dpop_nonce"
    assert stale.headers["DPoP-Nonce"] != nonce


def test_nonce_required_at_userinfo(app, client, clock, oidc, ec, configure):
    """UserInfo answers 401 use_dpop_nonce with the nonce, then the claims."""
    token = bound_tokens(oidc, clock, ec)["access_token"]
    configure(DPOP_NONCE_REQUIRED=True)
    first = userinfo(client, token, ec.proof(clock, "GET", USERINFO_URL, token=token))
    assert first.status_code == 401 and 'DPoP error="use_dpop_nonce"' in challenge(first)
    nonce = first.headers["DPoP-Nonce"]
    proof = ec.proof(clock, "GET", USERINFO_URL, token=token, nonce=nonce)
    assert userinfo(client, token, proof).status_code == 200


def test_nonces_are_the_same_on_every_instance(app, clock, make_app):
    """Stateless nonces: another instance with the same keys accepts them."""
    with app.test_request_context():
        nonce = dpop.current_nonce()
    with make_app().test_request_context():
        assert dpop.nonce_is_current(nonce)
        clock.advance(300)
        assert dpop.nonce_is_current(nonce)  # the previous period still counts
        clock.advance(300)
        assert not dpop.nonce_is_current(nonce)


# -- metadata ------------------------------------------------------------------------------
def test_discovery_lists_the_dpop_algorithms(client):
    """dpop_signing_alg_values_supported: asymmetric algorithms only."""
    algs = client.get("/.well-known/openid-configuration").json[
        "dpop_signing_alg_values_supported"]
    assert algs == ["ES256", "RS256", "PS256", "EdDSA", "Ed25519"]


def test_the_client_flag_by_cli_and_dcr(app, client, runner, configure):
    """dpop_bound_access_tokens is set by the CLI and by DCR (RFC 7591 metadata, RFC 9449
    §5.2), and a non-boolean is invalid_client_metadata."""
    result = runner.invoke(args=["clients", "create", "--json", "--name", "پورتال",
                                 "--redirect-uri", "https://rp.example.ir/cb",
                                 "--dpop-bound-access-tokens"])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["dpop_bound_access_tokens"] is True
    result = runner.invoke(args=["clients", "update", created["client_id"],
                                 "--no-dpop-bound-access-tokens"])
    assert result.exit_code == 0, result.output
    stored = db.session.scalar(select(Client).where(Client.client_id == created["client_id"]))
    db.session.refresh(stored)
    assert stored.dpop_bound_access_tokens is False

    configure(DCR_ENABLED=True)
    token = dcr.issue_initial_token("automation", ttl=3600, max_uses=2)[1]
    metadata = {"client_name": "Portal", "redirect_uris": ["https://rp.example.ir/cb"],
                "dpop_bound_access_tokens": True}
    headers = {"Authorization": f"Bearer {token}"}
    answer = client.post("/connect/register", json=metadata, headers=headers)
    assert answer.status_code == 201 and answer.json["dpop_bound_access_tokens"] is True
    refused = client.post("/connect/register", json={**metadata, "dpop_bound_access_tokens":
                                                     "yes"}, headers=headers)
    assert refused.json["error"] == "invalid_client_metadata"


def test_the_admin_form_sets_the_flag(app, client, auth):
    """The admin client form has the checkbox, and it is stored."""
    auth.admin_session()
    form = {"name_fa": "پورتال بیمه", "client_type": "confidential",
            "redirect_uris": "https://bime.example.ir/cb", "scope": ["openid"],
            "id_token_signed_response_alg": "RS256", "subject_type": "public",
            "token_endpoint_auth_method": "", "dpop_bound_access_tokens": "y"}
    assert 'name="dpop_bound_access_tokens"' in client.get("/admin/clients/new").get_data(
        as_text=True)
    assert client.post("/admin/clients/new", data=form).status_code == 200
    assert db.session.scalar(select(Client.dpop_bound_access_tokens)) is True



def _readme_verifier():
    """The resource-server example of the README, as written there."""
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = text[text.index("**For a resource server (a portal's API)**"):]
    start = section.index("```python\n") + len("```python\n")
    code = section[start:section.index("\n```", start)]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    return namespace["verify_dpop"]


def test_the_readme_resource_server_example_checks_the_proof(app, client, clock, oidc, ec,
                                                             other):
    """The README's example accepts a proof of the token's key and refuses another key's,
    a replay, and a proof for another token."""
    verify = _readme_verifier()
    token = bound_tokens(oidc, clock, ec)["access_token"]
    claims = oidc.decode(token).claims
    url = "https://api.example.ir/pensions"

    def request(holder, access=token, **kwargs):
        return SimpleNamespace(method="GET", base_url=url, headers={
            "DPoP": holder.proof(SimpleNamespace(now=datetime.now), "GET", url, token=access,
                                 **kwargs)})

    seen: set = set()
    good = request(ec, jti="one")
    verify(good, claims, token, seen)
    for bad in (request(other), good, request(ec, access=token + "x")):
        with pytest.raises(AssertionError):
            verify(bad, claims, token, seen)


@pytest.mark.parametrize("name", ["DPOP_IAT_WINDOW", "DPOP_NONCE_LIFETIME"])
def test_a_non_positive_dpop_period_is_refused_at_start(make_app, name):
    """A zero window or nonce period would refuse every proof: the app does not start."""
    with pytest.raises(SettingsError, match=name):
        make_app(**{name: 0})


# -- a DPoP proof at the PAR endpoint (RFC 9449 §10.1) ---------------------------------------
PAR_URL = ISSUER + "/par"


def pushed_code(oidc, rp, secret, headers, **extra):
    """Push an authorization request with ``headers``; return the push's answer and, when
    it was accepted, the code and the parameters."""
    params = auth_params(rp, **extra)
    data = {k: v for k, v in params.items() if not k.startswith("_") and v is not None}
    pushed = oidc.client.post("/par", data=data, headers=headers,
                              auth=(rp.client_id, secret))
    if pushed.status_code != 201:
        return pushed, None, params
    answer = query_of(oidc.client.get("/authorize", query_string={
        "client_id": rp.client_id, "request_uri": pushed.json["request_uri"]}))
    return pushed, answer["code"], params


def test_a_proof_at_par_binds_the_code(app, client, clock, oidc, ec, other):
    """A DPoP header on the push binds the code to its key, as dpop_jkt would."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    pushed, code, params = pushed_code(oidc, rp, secret,
                                       {"DPoP": ec.proof(clock, htu=PAR_URL)})
    assert pushed.status_code == 201, pushed.json
    assert db.session.scalar(select(AuthorizationCode.dpop_jkt)) == ec.jkt
    refused = exchange(oidc, rp, secret, code, params, other.proof(clock))
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    response = exchange(oidc, rp, secret, code, params, ec.proof(clock))
    assert response.status_code == 200 and response.json["token_type"] == "DPoP"


def test_a_bad_proof_at_par_is_a_json_error(app, client, clock, oidc, ec, other):
    """At /par a proof for another URL, or a proof whose key is not dpop_jkt's, is a JSON
    invalid_dpop_proof, and nothing is pushed."""
    rp, secret = make_portal(first_party=True)
    oidc.sign_in(make_user())
    for headers, extra in (({"DPoP": ec.proof(clock)}, {}),  # htu of the token endpoint
                           ({"DPoP": ec.proof(clock, htu=PAR_URL)}, {"dpop_jkt": other.jkt})):
        pushed, code, _ = pushed_code(oidc, rp, secret, headers, **extra)
        assert pushed.status_code == 400 and pushed.json["error"] == "invalid_dpop_proof"
        assert code is None
