"""The FAPI 2.0 Security Profile (Final), authorization server side, per client.

A client registered with ``profile = "fapi2"`` is held to the profile; every other
client keeps the IdP's defaults. The registration rules (confidential clients only,
``private_key_jwt``, https or loopback redirect URIs, ES256) are checked with the other
client rules in ``idp.clients.rules``; the predicates below are what the protocol code
asks at run time. docs/FAPI2.md maps each requirement of the profile to its test.

PAR and DPoP are required of such clients by ``idp.oidc.par.par_required`` and
``idp.oidc.dpop.dpop_required``, which ask :func:`is_fapi2` too.
"""

from __future__ import annotations

PROFILE = "fapi2"
#: §5.3.2.1 (11): authorization codes live at most 60 seconds.
CODE_TTL = 60
#: §5.4.1: PS256, ES256 or EdDSA; ES256 is the one both sides of this IdP speak (the
#: IdP signs with ES256).
SIGNING_ALGS = ("ES256",)
#: What a FAPI 2.0 client may sign its assertions with (EdDSA assertions are not offered).
ASSERTION_ALGS = ("PS256", "ES256")


def is_fapi2(client) -> bool:
    """Whether ``client`` (a row, a snapshot or Authlib's wrapper) is held to FAPI 2.0."""
    return client is not None and getattr(client, "profile", None) == PROFILE


def code_ttl(client, default: int) -> int:
    """The lifetime of a code issued to ``client``, in seconds."""
    return min(default, CODE_TTL) if is_fapi2(client) else default


def requires_pkce(client) -> bool:
    """Whether an authorization request must carry an S256 ``code_challenge``.

    Public clients must (RFC 9700 §2.1.1); FAPI 2.0 clients too (§5.3.2.2 (5)).
    """
    return client.is_public or is_fapi2(client)


def rotates_refresh_tokens(client) -> bool:
    """Whether a refresh gives ``client`` a new refresh token and ends the old one.

    FAPI 2.0 §5.3.2.1 (9): no rotation (it brings no security to confidential,
    sender-constrained clients and strands a client that lost the answer); the
    refresh token is kept until it expires or its grant is revoked.
    """
    return not is_fapi2(client)


def access_token_alg(client, default: str) -> str:
    """The algorithm that signs ``client``'s access tokens (§5.4.1 for FAPI 2.0)."""
    return SIGNING_ALGS[0] if is_fapi2(client) else default


def assertion_problem(client, header: dict, claims: dict, issuer: str) -> str | None:
    """What is wrong with a verified ``private_key_jwt`` assertion of ``client``, if
    anything the profile forbids (``None``: nothing).

    §5.3.2.1 (8): ``aud`` is the issuer identifier, as a string (not an endpoint URL, not
    an array); §5.4.1: signed with an allowed algorithm.
    """
    if not is_fapi2(client):
        return None
    if header.get("alg") not in ASSERTION_ALGS:
        return f"FAPI 2.0 client assertions must be signed with {' or '.join(ASSERTION_ALGS)}."
    if claims.get("aud") != issuer:
        return "FAPI 2.0 client assertions must have the issuer as a string aud."
    return None
