"""JWT responses for token introspection (RFC 9701).

A resource server registered with ``introspection_signed_response_alg`` that sends
``Accept: application/token-introspection+jwt`` receives the introspection answer as a
JWT signed with the IdP's key (published in the JWKS), so it can keep or forward the
answer as proof of what the IdP said about the token.

A client that is not registered for it gets plain JSON: the registration is the
client's request for signed answers (RFC 9701 §6), and HTTP content negotiation lets
a server answer with another representation than the one preferred (RFC 9110
§12.5.1). The RS recognises the answer by its ``Content-Type``.
"""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from . import tokens

MEDIA_TYPE = "application/token-introspection+jwt"
#: RFC 9701 §5: the explicit type keeps the answer from being taken for another JWT.
TYP = "token-introspection+jwt"
_JSON = "application/json"


def wants_jwt(accept: str | None) -> bool:
    """Whether an ``Accept`` header prefers the JWT answer to JSON (ties go to JSON)."""
    if not accept or "token-introspection+jwt" not in accept:
        return False
    return parse_accept_header(accept, MIMEAccept).best_match([_JSON, MEDIA_TYPE]) == MEDIA_TYPE


def signed_answer(body: dict, client) -> tuple[int, str, list[tuple[str, str]]]:
    """Return the endpoint answer carrying ``body`` as a JWT for ``client`` (RFC 9701 §5).

    ``aud`` is the calling client; ``token_introspection`` is the RFC 7662 answer,
    ``{"active": false}`` included.
    """
    claims = {"iss": tokens.issuer(), "aud": client.client_id, "iat": tokens.timestamp(),
              "token_introspection": body}
    signed = tokens.sign(claims, client.introspection_signed_response_alg, TYP)
    return 200, signed, [("Content-Type", MEDIA_TYPE), ("Cache-Control", "no-store"),
                         ("Pragma", "no-cache")]
