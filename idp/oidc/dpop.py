"""DPoP (RFC 9449): access tokens bound to a key the client proves it holds.

A client sends a *proof* in the ``DPoP`` header: a JWT of type ``dpop+jwt`` carrying its
public key (``jwk``), signed with the private half, naming the request (``htm``, ``htu``),
its time (``iat``), a unique ``jti`` and, at a resource, the hash of the access token
(``ath``). :func:`verify_proof` checks all of it and returns the key's RFC 7638
thumbprint (``jkt``), which the token endpoint writes into the access token as
``cnf.jkt`` and UserInfo compares with the token's.

Replays are refused by recording each proof's ``jti`` with the client-assertion ``jti``
records (``storage.remember_jti``, keyed by the thumbprint), so every instance of a
cluster shares them. Server nonces (``DPOP_NONCE_REQUIRED``) are stateless: an HMAC of
the current time period under a key derived for this purpose, equal on every instance.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from authlib.oauth2 import OAuth2Error
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from .. import settings
from ..extensions import now
from ..security.hashing import purpose_key
from . import fapi2, storage
from .metadata import DPOP_ALGORITHMS

#: Signature algorithms accepted in proofs (``dpop_signing_alg_values_supported``): never
#: ``none`` nor a MAC. ``Ed25519`` is RFC 9864's fully specified name of ``EdDSA``.
ALGORITHMS = list(DPOP_ALGORITHMS)
PROOF_TYP = "dpop+jwt"
HEADER = "DPoP"
NONCE_HEADER = "DPoP-Nonce"
#: Seconds a proof's ``iat`` may lie in the future (clock skew of the client).
FUTURE_LEEWAY = 5
#: The longest proof read (a 4096-bit RSA key in the header is about 1 KB).
MAX_PROOF_LENGTH = 8192
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_JKT = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)  # base64url of a SHA-256 digest
_DEFAULT_PORTS = {"http": 80, "https": 443}


class _ProofRegistry(JWSRegistry):
    """The proof algorithms only, without the warning joserfc gives for ``EdDSA``: RFC 9449
    lists it, and clients (openid-client among them) still send it. The header holds the
    whole public key, so it may be longer than joserfc's default limit."""

    max_header_length = 2048

    def get_alg(self, name: str):
        if name not in ALGORITHMS or name not in self.algorithms:
            return super().get_alg(name)  # raises UnsupportedAlgorithmError
        return self.algorithms[name]


_REGISTRY = _ProofRegistry(algorithms=ALGORITHMS)


# -- errors ------------------------------------------------------------------------------
class InvalidDPoPProofError(OAuth2Error):
    """RFC 9449 §5: the proof at the token endpoint is missing, malformed or wrong."""

    error = "invalid_dpop_proof"
    status_code = 400


class UseDPoPNonceError(OAuth2Error):
    """RFC 9449 §8: the proof must carry the server nonce sent in ``DPoP-Nonce``."""

    error = "use_dpop_nonce"
    status_code = 400

    def get_headers(self):
        return [*super().get_headers(), (NONCE_HEADER, current_nonce())]


class ResourceChallenge(OAuth2Error):
    """RFC 9449 §7.1: a refused request at a resource (UserInfo): 401 with a ``DPoP``
    challenge naming the error and the accepted algorithms."""

    status_code = 401

    def __init__(self, error: str, description: str):
        super().__init__(description=description)
        self.error = error

    def get_headers(self):
        challenge = (f'DPoP error="{self.error}", error_description="{self.description}", '
                     f'algs="{" ".join(ALGORITHMS)}"')
        headers = [*super().get_headers(), ("WWW-Authenticate", challenge)]
        if self.error == "use_dpop_nonce":
            headers.append((NONCE_HEADER, current_nonce()))
        return headers


class ProofError(Exception):
    """Why a proof was refused: ``error`` is ``invalid_dpop_proof`` or ``use_dpop_nonce``."""

    def __init__(self, description: str, error: str = "invalid_dpop_proof"):
        super().__init__(description)
        self.error, self.description = error, description

    def at_token_endpoint(self) -> OAuth2Error:
        kind = UseDPoPNonceError if self.error == "use_dpop_nonce" else InvalidDPoPProofError
        return kind(description=self.description)

    def at_resource(self) -> ResourceChallenge:
        return ResourceChallenge(self.error, self.description)


# -- proofs ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Proof:
    """A verified proof: the thumbprint of its key and its claims."""

    jkt: str
    claims: dict


def thumbprint(jwk: dict) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of a public JWK (base64url)."""
    return JWKRegistry.import_key(jwk).thumbprint()


def access_token_hash(access_token: str) -> str:
    """Return ``ath`` for ``access_token``: base64url(SHA-256(ASCII token)), §4.2."""
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def normalise_url(url: str) -> str:
    """Return ``url`` without query and fragment, scheme and host lower-cased, the default
    port dropped and an empty path made ``/`` (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2-3)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def endpoint_url(path: str) -> str:
    """The ``htu`` a proof for this server's ``path`` must name (from ``ISSUER``, never
    from the ``Host`` header a client controls)."""
    return normalise_url(settings.current().issuer + path)


def verify_proof(values: list[str], *, method: str, path: str,
                 access_token: str | None = None) -> Proof:
    """Verify the ``DPoP`` header values of a request to this server's ``path``.

    Exactly one proof; ``typ`` ``dpop+jwt``; an accepted ``alg``; a public key in ``jwk``
    that verifies the signature; ``htm``, ``htu``, a recent ``iat``, a ``jti`` never seen
    before (recorded here, last), ``ath`` when an ``access_token`` is presented with it,
    and the current server nonce when ``DPOP_NONCE_REQUIRED`` is on.

    :raises ProofError: naming what is wrong.
    """
    if len(values) != 1:
        raise ProofError("Exactly one DPoP header is required.")
    value = values[0].strip()
    if len(value) > MAX_PROOF_LENGTH or value.count(".") != 2:
        raise ProofError("The DPoP proof is not a compact JWT.")
    key, alg = _header_key(value)
    try:
        claims = jwt.decode(value, key, [alg], registry=_REGISTRY).claims
    except (JoseError, ValueError, TypeError) as e:
        raise ProofError("The DPoP proof signature does not verify.") from e
    _check_claims(claims, method, path, access_token)
    jkt = key.thumbprint()
    expires = datetime.fromtimestamp(claims["iat"] + settings.current().dpop_iat_window, UTC)
    if not storage.remember_jti(f"dpop:{jkt}", claims["jti"], expires):
        raise ProofError("The DPoP proof was used before.")
    return Proof(jkt=jkt, claims=claims)


def _header_key(value: str):
    """Return the proof's public key and algorithm after checking its header."""
    try:
        header = jws.extract_compact(value.encode(), registry=_REGISTRY).protected
    except (JoseError, ValueError, TypeError) as e:
        raise ProofError("The DPoP proof is not a compact JWT.") from e
    if header.get("typ") != PROOF_TYP:
        raise ProofError(f"The DPoP proof's typ must be {PROOF_TYP}.")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise ProofError(f"The DPoP proof's alg must be one of {', '.join(ALGORITHMS)}.")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or _PRIVATE_MEMBERS & set(jwk):
        raise ProofError("The DPoP proof's jwk must be a public key.")
    try:
        key = JWKRegistry.import_key(jwk)
    except (JoseError, ValueError, TypeError) as e:
        raise ProofError("The DPoP proof's jwk is not a valid key.") from e
    if not isinstance(key, ECKey | RSAKey | OKPKey) or key.is_private:
        raise ProofError("The DPoP proof's jwk must be a public key.")
    if isinstance(key, RSAKey) and key.raw_value.key_size < 2048:
        raise ProofError("The DPoP proof's RSA key is shorter than 2048 bits.")
    return key, alg


def _check_claims(claims: dict, method: str, path: str, access_token: str | None) -> None:
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 255:
        raise ProofError("The DPoP proof needs a jti.")
    if claims.get("htm") != method:
        raise ProofError("The DPoP proof's htm does not match the request method.")
    htu = claims.get("htu")
    if not isinstance(htu, str) or normalise_url(htu) != endpoint_url(path):
        raise ProofError("The DPoP proof's htu does not match the request URL.")
    iat = claims.get("iat")
    moment = now().timestamp()
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise ProofError("The DPoP proof needs a numeric iat.")
    if iat < moment - settings.current().dpop_iat_window:
        raise ProofError("The DPoP proof is too old.")
    if iat > moment + FUTURE_LEEWAY:
        raise ProofError("The DPoP proof's iat is in the future.")
    if access_token is not None and not (
            isinstance(claims.get("ath"), str)
            and hmac.compare_digest(claims["ath"], access_token_hash(access_token))):
        raise ProofError("The DPoP proof's ath does not match the access token.")
    if settings.current().dpop_nonce_required and not nonce_is_current(claims.get("nonce")):
        raise ProofError("Use the server's DPoP nonce.", "use_dpop_nonce")


# -- nonces ------------------------------------------------------------------------------
def _period() -> int:
    return int(now().timestamp()) // settings.current().dpop_nonce_lifetime


def _nonce_for(period: int) -> str:
    mac = hmac.new(purpose_key("dpop_nonce"), str(period).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def current_nonce() -> str:
    """Return the nonce of the current period (the same on every instance)."""
    return _nonce_for(_period())


def nonce_is_current(value: object) -> bool:
    """Tell whether ``value`` is the nonce of this period or the previous one."""
    if not isinstance(value, str):
        return False
    period = _period()
    return any(hmac.compare_digest(value, _nonce_for(p)) for p in (period, period - 1))


# -- policy ------------------------------------------------------------------------------
def dpop_required(client) -> bool:
    """Tell whether every token request of ``client`` must carry a DPoP proof: its
    ``dpop_bound_access_tokens``, or the FAPI 2.0 profile (sender-constrained tokens,
    §5.3.1.1; mTLS is not offered, so DPoP is the way)."""
    return bool(getattr(client, "dpop_bound_access_tokens", False)) or fapi2.is_fapi2(client)


def valid_jkt(value: object) -> bool:
    """Tell whether ``value`` can be a ``dpop_jkt`` (a base64url SHA-256 thumbprint)."""
    return isinstance(value, str) and _JKT.fullmatch(value) is not None
