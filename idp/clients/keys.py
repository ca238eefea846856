"""The rule for a client's public keys (``jwks``), shared by the admin pages, the CLI,
dynamic client registration and the keys loaded to check a client assertion.

A client's key set holds only public asymmetric keys that parse: RSA of at least 2048
bits, EC on P-256/P-384/P-521 (the point on the curve), OKP Ed25519. A symmetric
(``oct``) key would be a shared secret stored in clear, and a private member a key the
client should never have handed out; both are refused, never stored and never echoed.
The keys are parsed with ``cryptography`` so that a malformed one is refused here
rather than when a client assertion arrives.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ..errors import DomainError

#: JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4;
#: RFC 8037 §2).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_KEYS = 20
MIN_RSA_BITS = 2048
_CURVES = {"P-256": (ec.SECP256R1, 32), "P-384": (ec.SECP384R1, 48),
           "P-521": (ec.SECP521R1, 66)}


def check_jwks(jwks: object, field: str = "jwks") -> None:
    """Refuse a key set that is not a non-empty list of public asymmetric keys that parse.

    :raises DomainError: on ``field``: ``jwks_invalid`` (not a JWK Set), ``jwks_private_key``
        (a private member), ``jwks_symmetric_key`` (``kty`` ``oct``) or ``jwks_key_invalid``
        (unsupported type or curve, too short, malformed).
    """
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) \
            or not jwks["keys"] or len(jwks["keys"]) > MAX_KEYS:
        raise DomainError("jwks_invalid", field=field)
    for key in jwks["keys"]:
        if not isinstance(key, dict):
            raise DomainError("jwks_key_invalid", field=field)
        if key.get("kty") == "oct":
            raise DomainError("jwks_symmetric_key", field=field)
        if PRIVATE_MEMBERS & key.keys():
            raise DomainError("jwks_private_key", field=field)
        if not _parses(key):
            raise DomainError("jwks_key_invalid", field=field)


def public_jwks(jwks: dict | None) -> dict | None:
    """Return ``jwks`` without any private member, for showing a stored key set."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        return jwks
    keys = [{k: v for k, v in key.items() if k not in PRIVATE_MEMBERS}
            if isinstance(key, dict) else key for key in jwks["keys"]]
    return {**jwks, "keys": keys}


def _number(value: object) -> int:
    return int.from_bytes(_bytes(value), "big")


def _bytes(value: object) -> bytes:
    if not isinstance(value, str) or not value or not value.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _parses(key: dict) -> bool:
    try:
        kty = key.get("kty")
        if kty == "RSA":
            public = rsa.RSAPublicNumbers(_number(key.get("e")), _number(key.get("n")))
            return public.public_key().key_size >= MIN_RSA_BITS
        if kty == "EC":
            curve, size = _CURVES[key.get("crv")]
            x, y = _bytes(key.get("x")), _bytes(key.get("y"))
            if len(x) != size or len(y) != size:
                return False
            # Raises ValueError unless the point is on the curve.
            ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                          curve()).public_key()
            return True
        if kty == "OKP" and key.get("crv") == "Ed25519":
            ed25519.Ed25519PublicKey.from_public_bytes(_bytes(key.get("x")))
            return True
    except (KeyError, ValueError, TypeError, binascii.Error):
        return False
    return False
