"""JWT-secured authorization requests: the ``request`` parameter (RFC 9101, OIDC Core §6.1).

A client may send its authorization request as a request object, by value at
``/authorize`` or inside a pushed authorization request (``idp.oidc.par``). The object
must be signed with one of :data:`ALGORITHMS` by a key the client registered (``jwks`` or
``jwks_uri``, the keys ``private_key_jwt`` uses); an unsigned object (``alg`` ``none``)
and an encrypted one are refused. Its claims are checked like a client assertion's:
``iss`` is the client, ``aud`` the issuer, ``exp`` at most :data:`MAX_LIFETIME` ahead,
``nbf`` honoured, and a ``jti`` seen before (while the first object is valid) is a
replay. Only the object's parameters are used (RFC 9101 §5: the authorization server
MUST only use the parameters in the request object), the outer ``client_id`` aside.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc9101.errors import InvalidRequestObjectError
from joserfc import jws, jwt
from joserfc.errors import JoseError

from . import storage, tokens
from .errors import quoted
from .grants import client_keys
from .metadata import REQUEST_OBJECT_ALGS

#: RFC 9101 signatures accepted (``request_object_signing_alg_values_supported``).
ALGORITHMS = tuple(REQUEST_OBJECT_ALGS)
#: How far ahead of now (or of its ``iat``) a request object's ``exp`` may be, in seconds.
MAX_LIFETIME = 3600
#: Seconds of clock skew allowed on ``exp`` and ``nbf``.
LEEWAY = 30
#: Request object ``jti``s share the client-assertion replay table under this prefix.
JTI_PREFIX = "request_object:"


def verify(raw: object, client) -> dict:
    """Check the request object ``raw`` sent by ``client``; return its parameters.

    The parameters come back as an authorization request's text values: a ``claims``
    object becomes its JSON text, a number its decimal text, a ``resource`` list stays a
    list. The object's ``jti`` is recorded last (a failure record, committed at once),
    so an object refused for another reason may be corrected and sent again.

    :raises InvalidRequestObjectError: when the object is unsigned, badly signed, signed
        with an algorithm the client may not use, or its claims are wrong or replayed.
    """
    if not isinstance(raw, str) or raw.count(".") != 2:
        raise InvalidRequestObjectError("The request object must be a signed JWT (JWS).")
    try:
        alg = jws.extract_compact(raw.encode()).headers().get("alg")
    except (JoseError, ValueError) as e:
        raise InvalidRequestObjectError("The request object cannot be parsed.") from e
    allowed = [client.request_object_signing_alg] if client.request_object_signing_alg \
        else list(ALGORITHMS)
    if alg not in allowed:
        raise InvalidRequestObjectError(
            f"The request object must be signed with {' or '.join(allowed)}.")
    try:
        keys = client_keys(client)
    except InvalidClientError as e:  # no keys registered, or unreadable
        raise InvalidRequestObjectError("The client has no readable public keys.") from e
    try:
        claims = jwt.decode(raw, keys, algorithms=[alg]).claims
    except JoseError as e:
        raise InvalidRequestObjectError(
            "The request object's signature does not verify with the client's keys.") from e
    _check_claims(claims, client.client_id)
    expires = datetime.fromtimestamp(claims["exp"] + LEEWAY, UTC)
    if not storage.remember_jti(client.client_id, JTI_PREFIX + claims["jti"], expires):
        raise InvalidRequestObjectError("The request object was used before (jti).")
    return parameters(claims)


def _check_claims(claims: dict, client_id: str) -> None:
    moment = tokens.timestamp()
    registry = jwt.JWTClaimsRegistry(
        now=lambda: moment, leeway=LEEWAY,
        iss={"essential": True, "value": client_id},
        aud={"essential": True, "value": tokens.issuer()},
        exp={"essential": True}, jti={"essential": True},
        client_id={"essential": True, "value": client_id})
    try:
        registry.validate(claims)
    except JoseError as e:
        raise InvalidRequestObjectError(
            f"The request object is not valid: {quoted(e.description)}") from e
    exp = claims["exp"]
    iat = claims.get("iat")
    if exp > moment + MAX_LIFETIME or (isinstance(iat, int | float) and exp - iat > MAX_LIFETIME):
        raise InvalidRequestObjectError(
            f"The request object must expire within {MAX_LIFETIME // 60} minutes.")
    if not isinstance(claims["jti"], str) or not claims["jti"] or "\x00" in claims["jti"]:
        # Recorded in the database: PostgreSQL text cannot hold NUL.
        raise InvalidRequestObjectError("The request object's jti must be a string.")
    # RFC 9101 §4: request and request_uri MUST NOT be included in request objects.
    if "request" in claims or "request_uri" in claims:
        raise InvalidRequestObjectError("A request object cannot hold request or request_uri.")


#: Parameters that may hold several values (RFC 8707 ``resource``).
LIST_PARAMS = frozenset({"resource"})
#: JWT claims that are not authorization parameters.
_JWT_CLAIMS = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti", "sub"})


def parameters(claims: dict) -> dict:
    """Return the authorization parameters a request object's claims carry.

    :raises InvalidRequestObjectError: when a value is neither text, a whole number,
        a JSON object (``claims``) nor a list of text (``resource``).
    """
    params: dict = {}
    for name, value in claims.items():
        if name in _JWT_CLAIMS or value is None or value == "":
            continue
        if isinstance(value, str):
            params[name] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            params[name] = str(value)  # max_age (OIDC Core §6.1: a JSON number)
        elif isinstance(value, dict) and name == "claims":
            params[name] = json.dumps(value)  # OIDC Core §6.1: a JSON object
        elif name in LIST_PARAMS and isinstance(value, list) \
                and all(isinstance(v, str) for v in value):
            params[name] = value
        else:
            raise InvalidRequestObjectError(f"The request object's {quoted(name)} is not valid.")
    return params
