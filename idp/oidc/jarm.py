"""JWT Secured Authorization Response Mode (JARM, OpenID Foundation, 2022).

With ``response_mode`` ``jwt``, ``query.jwt``, ``fragment.jwt`` or ``form_post.jwt`` the
authorization response (``code``, ``state``, ``iss``; or ``error``…) reaches the client as
one signed JWT in the ``response`` parameter, so a tampered or injected response is
detected by its signature. Errors are wrapped too (§2.4), once the client and its
redirect URI are known; without them there is no redirect at all.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Response, render_template

from . import fapi2, tokens

#: §2.3: the modes; ``jwt`` means the default mode of the response type (code: query).
MODES = {"jwt": "query.jwt", "query.jwt": "query.jwt", "fragment.jwt": "fragment.jwt",
         "form_post.jwt": "form_post.jwt"}
ALGORITHMS = ("RS256", "ES256")
#: §4.1: a short lifetime; the client uses the response at once.
TTL = 600


def requested(params: dict) -> str | None:
    """The JARM mode a request asks for (``query.jwt`` …), or ``None``."""
    return MODES.get(params.get("response_mode") or "")


def signing_alg(client) -> str:
    """§3: ``authorization_signed_response_alg``, default RS256 (ES256 for FAPI 2.0)."""
    return client.authorization_signed_response_alg or (
        fapi2.SIGNING_ALGS[0] if fapi2.is_fapi2(client) else "RS256")


def wrap(response: Response, client, mode: str, redirect_uri: str) -> Response:
    """Turn Authlib's redirect, whose query carries the response, into the JARM form.

    The parameters added to ``redirect_uri`` (registered, matched exactly, possibly with
    a query of its own) become the JWT's claims with ``iss``, ``aud`` and ``exp`` (§2.1).
    """
    own = set(parse_qsl(urlsplit(redirect_uri).query, keep_blank_values=True))
    added = [pair for pair in parse_qsl(urlsplit(response.headers["Location"]).query,
                                        keep_blank_values=True) if pair not in own]
    claims = {**dict(added), "iss": tokens.issuer(), "aud": client.client_id,
              "exp": tokens.timestamp() + TTL}
    signed = tokens.sign(claims, signing_alg(client))
    if mode == "form_post.jwt":
        # The page's script (static/js/form_post.js) submits the form; the button is for
        # browsers without JavaScript.
        return Response(render_template("oidc/form_post.html", action=redirect_uri,
                                        response=signed), mimetype="text/html")
    if mode == "fragment.jwt":
        return _redirect(f"{redirect_uri}#{urlencode({'response': signed})}",
                         response.status_code)
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return _redirect(f"{redirect_uri}{separator}{urlencode({'response': signed})}",
                     response.status_code)


def _redirect(location: str, status: int) -> Response:
    return Response(status=status, headers={"Location": location})
