"""Discovery and JWKS as prebuilt bytes, answered by a small WSGI layer in front of Flask.

These two public documents are fetched far more often than anything else and never depend
on the caller: no session, language, rate limit or database. Going through Flask costs
~0.2 ms of CPU per request; this layer answers from ready-made bytes and header lists in a
few microseconds. The Flask routes stay registered (``url_for``, ``OPTIONS`` preflight).

It is the outermost layer, in front of :class:`idp.observability.RequestTelemetry` too:
an answer still carries its request id and is counted per route, but with a kept counter
and no latency histogram (a few microseconds of latency tell an operator nothing, and the
histogram and the telemetry wrapper cost more than the answer itself).

The JWKS follows the key store: each request asks it for the published set at the app
clock's now (a ``stat`` of the manifest and a cache lookup), so a rotation by another
process or ``flask keys`` and a retirement that comes due are served without a restart.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from werkzeug.http import parse_etags

from .. import logs, metrics, settings
from ..security.headers import security_headers
from .metadata import PATHS

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = PATHS["jwks_uri"]


class Document(NamedTuple):
    """A ready answer: the body, its ETag and both header lists."""

    body: bytes
    etag: str
    ok_headers: list[tuple[str, str]]
    not_modified_headers: list[tuple[str, str]]


def build_document(body: bytes, content_type: str, etag: str,
                   common: tuple[tuple[str, str], ...]) -> Document:
    """Return the 200 and 304 answers for ``body`` (RFC 9110 §15.4.5: a 304 repeats ETag
    and Cache-Control, without the content headers)."""
    validators = [("ETag", f'"{etag}"'), *common]
    return Document(body, etag,
                    [("Content-Type", content_type), ("Content-Length", str(len(body))),
                     *validators],
                    validators)


class StaticDocuments:
    """WSGI middleware that answers ``GET``/``HEAD`` for discovery and the JWKS.

    Every other request, and other methods on these paths, go to the wrapped app.
    """

    def __init__(self, wsgi_app, app):
        self.wsgi_app = wsgi_app
        self.count = settings.of(app).metrics_enabled
        self.keys = app.extensions["idp.keys"]
        self.clock = app.extensions["idp.clock"]
        cfg = settings.of(app)
        # The headers the Flask views sent: public caching, CORS for browser apps (no
        # cookies involved, so "*" is safe) and the site-wide security headers.
        self.common = (("Cache-Control", f"public, max-age={cfg.oidc_jwks_max_age}"),
                       ("Access-Control-Allow-Origin", "*"), *security_headers(cfg))
        body = app.extensions["idp.discovery"]
        self.discovery = build_document(body, "application/json", _digest(body), self.common)
        self._jwks: Document | None = None

    def jwks(self) -> Document:
        """Return the JWKS answer for the keys published now, rebuilt when they change."""
        body, etag = self.keys.public_jwks(self.clock.now())
        document = self._jwks
        if document is None or document.body is not body:
            document = build_document(body, "application/jwk-set+json", etag, self.common)
            self._jwks = document
        return document

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path == DISCOVERY_PATH:
            document = self.discovery
        elif path == JWKS_PATH:
            document = self.jwks()
        else:
            return self.wsgi_app(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        # RFC 9110 §13.1.2: If-None-Match uses the weak comparison.
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        rid = ("X-Request-ID", logs.accepted_request_id(environ.get("HTTP_X_REQUEST_ID")))
        if if_none_match and parse_etags(if_none_match).contains_weak(document.etag):
            status, headers, body = "304", document.not_modified_headers, []
            start_response("304 Not Modified", [*headers, rid])
        else:
            status, body = "200", [document.body] if method == "GET" else []
            start_response("200 OK", [*document.ok_headers, rid])
        if self.count:
            metrics.count_request(method, path, status)
        return body


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]
