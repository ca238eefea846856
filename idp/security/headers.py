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

# Pages with personal data and protocol answers must never be cached (RFC 6749 §5.1);
# static files and the public discovery/JWKS documents may be.
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
CACHEABLE_PREFIXES = ("/static/", "/favicon.ico", "/jwks.json", "/.well-known/")


def security_headers(cfg: settings.Settings) -> tuple[tuple[str, str], ...]:
    """Return the headers every response carries, for this app's settings."""
    headers = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
               ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer")]
    if cfg.https:
        headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return tuple(headers)


def init_app(app) -> None:
    always = security_headers(settings.of(app))
    everything = always + NO_STORE

    def set_security_headers(response):
        # Built once per app; a view's own value (a static file's Cache-Control) wins.
        wanted = always if request.path.startswith(CACHEABLE_PREFIXES) else everything
        headers = response.headers
        present = {name.lower() for name in headers.keys()}
        headers.extend(item for item in wanted if item[0].lower() not in present)
        return response

    app.after_request(set_security_headers)
