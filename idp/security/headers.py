"""Security headers on every response (CSP, framing, sniffing, referrer, HSTS, caching)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import request

from .. import settings

# No inline script or style: page scripts live in static/js/. No form-action: browsers
# apply it to the redirect that follows a sign-in or consent POST, and those go to each
# portal's registered redirect URI (custom schemes included).
CSP_TEMPLATE = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src {img}; "
                "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                "object-src 'none'")

# An origin that can be written into a CSP source list as it is: no user info, no
# characters that would end the source or the directive.
_ORIGIN = re.compile(r"https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?"
                     r"|http://(127\.0\.0\.1|localhost)(:[0-9]{1,5})?")
_URL_SAFE = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+=%]+")  # no quote, space, ';' or ','


def image_origin(uri: str | None) -> str | None:
    """Return the origin to allow for an image at ``uri`` (a portal's logo), or ``None``
    when ``uri`` is not a plain https URL (http only on loopback, for development) whose
    origin and text can go into a page and a CSP unchanged: then the image is not shown.
    """
    if not uri or not _URL_SAFE.fullmatch(uri):
        return None
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    if parts.username is not None or parts.password is not None or not parts.hostname:
        return None
    origin = f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
    return origin if _ORIGIN.fullmatch(origin) else None


def content_security_policy(cfg: settings.Settings, images: tuple[str, ...] = ()) -> str:
    """The CSP of this app's pages: ``img-src`` allows our own images, the origin of
    ``BRAND_LOGO_URL`` when it is on another server, and ``images`` (origins from
    :func:`image_origin`; the consent page adds the portal's logo)."""
    brand = image_origin(cfg.brand_logo_url)
    sources = dict.fromkeys(["'self'", "data:", *([brand] if brand else []), *images])
    return CSP_TEMPLATE.format(img=" ".join(sources))

# Pages with personal data and protocol answers must never be cached (RFC 6749 §5.1);
# static files and the public discovery/JWKS documents may be.
NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
CACHEABLE_PREFIXES = ("/static/", "/favicon.ico", "/jwks.json", "/.well-known/")


def security_headers(cfg: settings.Settings) -> tuple[tuple[str, str], ...]:
    """Return the headers every response carries, for this app's settings."""
    headers = [("Content-Security-Policy", content_security_policy(cfg)),
               ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
               ("Referrer-Policy", "no-referrer")]
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
