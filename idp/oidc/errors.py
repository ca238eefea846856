"""Protocol errors built from what a request sent, and client authentication that cannot
be crashed by the bytes of an ``Authorization`` header.

RFC 6749 §4.1.2.1 and §5.2 restrict ``error_description`` to ``%x20-21 / %x23-5B /
%x5D-7E``; Authlib raises ``ValueError`` (a 500) when a description holds anything else.
Every description that quotes request data goes through :func:`quoted`.
"""

from __future__ import annotations

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import UnsupportedResponseTypeError
from authlib.oauth2.rfc6749.authenticate_client import authenticate_client_secret_basic

#: How much of a request value an error description may quote.
QUOTE_MAX = 40


def quoted(value) -> str:
    """Return ``value`` as text an OAuth error description may carry.

    Characters outside the RFC 6749 set (non-ASCII, controls, ``"`` and ``\\``) become
    ``?``; the result is cut to :data:`QUOTE_MAX` characters.
    """
    text = "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "?"
                   for c in str(value)[:QUOTE_MAX + 1])
    return text if len(text) <= QUOTE_MAX else text[:QUOTE_MAX - 3] + "..."


def unsupported_response_type(response_type, redirect_uri) -> UnsupportedResponseTypeError:
    """The error Authlib builds for an unknown ``response_type``, with the value quoted."""
    return UnsupportedResponseTypeError(
        f"The response type '{quoted(response_type)}' is not supported by the server.",
        quoted(response_type), redirect_uri=redirect_uri)


def client_secret_basic(query_client, request):
    """Authlib's ``client_secret_basic``, except that credentials that do not decode as
    UTF-8 fail authentication (401 ``invalid_client``) instead of raising."""
    try:
        return authenticate_client_secret_basic(query_client, request)
    except UnicodeDecodeError:
        return None


class UnmetAuthenticationRequirementsError(OAuth2Error):
    """OpenID Connect Core Unmet Authentication Requirements 1.0 §2: the sign-in cannot
    reach the level asked for (``prompt=none``, no second factor, or the citizen gave up)."""

    error = "unmet_authentication_requirements"
