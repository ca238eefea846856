"""Signed tokens: JWT access tokens (RFC 9068), ID tokens and logout tokens.

``generate_token`` and ``save_token`` are the token generator and recorder the
authorization server and the grants use; the records live in ``idp.grants``.

Every token is signed with the current key of its algorithm and names it by ``kid``;
verification uses the published keys, so a token signed before ``flask keys rotate``
keeps verifying until its key leaves the JWKS.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime

from flask import current_app
from joserfc import jws, jwt
from joserfc.errors import JoseError

from .. import metrics, settings
from ..extensions import now
from ..grants import tokens as grant_tokens
from . import claims, fapi2

ACCESS_TOKEN_TYP = "at+jwt"
LOGOUT_TOKEN_TYP = "logout+jwt"
ALGORITHMS = ["RS256", "ES256"]


class TokenError(Exception):
    """A token that is malformed, badly signed, of the wrong type or expired."""


def keystore():
    return current_app.extensions["idp.keys"]


def issuer() -> str:
    return settings.current().issuer


def timestamp(moment: datetime | None = None) -> int:
    return int((moment or now()).timestamp())


def new_jti() -> str:
    return secrets.token_urlsafe(18)


def sign(claims: dict, alg: str = "RS256", typ: str = "JWT") -> str:
    """Sign ``claims`` with the current ``alg`` key; the header names it by ``kid``."""
    key = keystore().signing_key(alg, now())
    return jwt.encode({"alg": alg, "kid": key.kid, "typ": typ}, claims, key, [alg])


def unverified_claims(token: str) -> dict:
    """Read the claims of a token this server just made (no signature check)."""
    return json.loads(jws.extract_compact(token.encode()).payload)


def verify(token: str, typ: str | None = None, check_exp: bool = True) -> tuple[dict, dict]:
    """Verify a token signed by this server; return ``(header, claims)``.

    :param typ: the required ``typ`` header (``at+jwt`` keeps ID tokens from being
        used as access tokens, RFC 9068 §4).
    :param check_exp: ``False`` accepts expired tokens (``id_token_hint``, RP-initiated
        logout §2).
    :raises TokenError: for anything but a valid token of this issuer.
    """
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError("not a compact JWT")
    try:
        decoded = jwt.decode(token, keystore().verification_keys(now()), ALGORITHMS)
    except (JoseError, ValueError) as e:
        raise TokenError("bad signature or format") from e
    header, claims = decoded.header, decoded.claims
    if typ is not None and str(header.get("typ", "")).lower().removeprefix("application/") \
            != typ:
        raise TokenError("wrong token type")
    if claims.get("iss") != issuer():
        raise TokenError("wrong issuer")
    if check_exp:
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= timestamp():
            raise TokenError("expired")
    return header, claims


def access_token(*, client, sub: str, scope: str, ttl: int,
                 resources: list[str] | None = None, jkt: str | None = None
                 ) -> tuple[str, dict]:
    """Return a JWT access token (RFC 9068 §2.2) and its claims, signed with
    ``OIDC_ACCESS_TOKEN_ALG`` (RS256 unless set: RFC 9068 §2.1 requires resource servers to
    support RS256, not ES256).

    ``aud`` is the requested resource (RFC 8707; a list for several). Without one it is
    the client itself: the IdP's own UserInfo endpoint accepts the token, and a resource
    server that trusts the client checks the ``client_id`` and ``scope``. ``jkt`` binds
    the token to a DPoP key (RFC 9449 §6.1: ``cnf.jkt``).
    """
    issued = timestamp()
    aud = (resources[0] if len(resources) == 1 else list(resources)) if resources \
        else client.client_id
    claims = {"iss": issuer(), "sub": sub, "aud": aud,
              "client_id": client.client_id, "scope": scope, "jti": new_jti(),
              "iat": issued, "exp": issued + ttl}
    if jkt:
        claims["cnf"] = {"jkt": jkt}
    alg = fapi2.access_token_alg(client, settings.current().oidc_access_token_alg)
    return sign(claims, alg, ACCESS_TOKEN_TYP), claims


def generate_token(grant_type, client, user=None, scope=None, expires_in=None,
                   include_refresh_token=True, resources=None, jkt=None):
    """The token generator: RFC 9068 JWT access token, opaque refresh token.

    ``resources`` (RFC 8707) become the access token's ``aud``; grants pass them, and
    ``jkt``, the thumbprint of a DPoP proof's key, which makes it a ``DPoP`` token.
    """
    ttl = expires_in or client.access_token_ttl or settings.current().oidc_access_token_ttl
    sub = claims.subject(user, client) if user is not None else client.client_id
    access, _ = access_token(client=client, sub=sub, scope=scope or "", ttl=ttl,
                             resources=resources, jkt=jkt)
    token = {"token_type": "DPoP" if jkt else "Bearer", "access_token": access,
             "expires_in": ttl}
    if scope:
        token["scope"] = scope
    if include_refresh_token:
        token["refresh_token"] = grant_tokens.new_refresh_token()
    metrics.tokens.labels(grant_type).inc()
    return token


def save_token(token, request):
    """Record what ``generate_token`` made in the grant opened by the grant class."""
    ttl = request.client.refresh_token_ttl or settings.current().oidc_refresh_token_ttl
    grant_tokens.record_tokens(request.family, unverified_claims(token["access_token"]),
                               token.get("refresh_token"), ttl)
