"""Security headers on every response (CSP, framing, sniffing, referrer, HSTS, caching)."""

from __future__ import annotations

from flask import request

from .. import settings

# No inline script or style: page scripts live in static/js/. No form-action: browsers
# apply it to the redirect that follows a sign-in or consent POST, and those go to each
# portal's registered redirect URI (custom schemes included).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "object-src 'none'")


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if settings.current().https:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if not request.path.startswith(("/static/", "/jwks.json", "/.well-known/")):
        # Pages with personal data and protocol answers must never be cached (RFC 6749 §5.1).
        headers.setdefault("Cache-Control", "no-store")
        headers.setdefault("Pragma", "no-cache")
    return response


def init_app(app) -> None:
    app.after_request(set_security_headers)
