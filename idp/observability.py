"""Request ids, per-route request metrics and ``/metrics``.

:class:`RequestTelemetry` is the outermost WSGI layer: it takes the request id from a
valid ``X-Request-ID`` (or makes one), echoes it in the response, and counts each answer
and its latency per route rule (``/oauth/token``, ``/register/step/<int:step>``; never the
raw path, which would grow without bound).

``/metrics`` (Prometheus text format) is for the scraper only: a request carrying
``Authorization: Bearer METRICS_TOKEN``, or coming from one of ``METRICS_NETWORKS``, or,
outside production, from loopback. Anyone else gets 404, as for a page that is not there.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from flask import Blueprint, Response, abort, request
from sqlalchemy import event

from . import logs, metrics, settings
from .extensions import db

bp = Blueprint("observability", __name__)
_ROUTE = "idp.route"


class RequestTelemetry:
    """WSGI middleware: request id in and out, request count and latency per route.

    Discovery and the JWKS are answered before it (:mod:`idp.oidc.documents` sets their
    request id and counts them itself)."""

    def __init__(self, wsgi_app, count: bool):
        self.wsgi_app = wsgi_app
        self.count = count

    def __call__(self, environ, start_response):
        rid = logs.accepted_request_id(environ.get("HTTP_X_REQUEST_ID"))
        environ["HTTP_X_REQUEST_ID"] = rid
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status = ["500"]

        def start(status_line, headers, exc_info=None):
            status[0] = status_line[:3]
            # A new list: StaticDocuments passes the same prebuilt list every time.
            return start_response(status_line, [*headers, ("X-Request-ID", rid)], exc_info)

        try:
            return self.wsgi_app(environ, start)
        finally:
            logs.request_id.reset(token)
            if self.count:
                self._observe(environ, status[0], time.perf_counter() - started)

    @staticmethod
    def _observe(environ, status: str, seconds: float) -> None:
        route = environ.get(_ROUTE) or "unmatched"
        metrics.observe_request(environ.get("REQUEST_METHOD", ""), route, status, seconds)
        if status == "429":
            metrics.rate_limited.labels(route).inc()


def _remember_route() -> None:
    rule = request.url_rule
    if rule is not None:
        request.environ[_ROUTE] = rule.rule


def _may_read_metrics(cfg: settings.Settings) -> bool:
    token = cfg.metrics_token
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if cfg.env != "production" and address.is_loopback:
        return True
    return any(address in ipaddress.ip_network(net, strict=False) for net in cfg.metrics_networks)


@bp.get("/metrics")
def metrics_view():
    """Prometheus text exposition of every worker's metrics."""
    if not _may_read_metrics(settings.current()):
        abort(404)
    return Response(metrics.exposition(), content_type="text/plain; version=0.0.4")


def _count_pool(engine) -> None:
    @event.listens_for(engine, "checkout")
    def _out(*_):
        metrics.db_connections.inc()

    @event.listens_for(engine, "checkin")
    def _in(*_):
        metrics.db_connections.dec()


def init_app(app) -> None:
    """Register ``/metrics`` and the route hook; call before the other ``before_request``
    hooks (so a refused request is still counted under its route)."""
    cfg = settings.of(app)
    if not cfg.metrics_enabled:
        return
    app.before_request(_remember_route)
    app.register_blueprint(bp)
    with app.app_context():
        for engine in db.engines.values():
            _count_pool(engine)


def wrap(app) -> None:
    """Wrap the app in :class:`RequestTelemetry` (only the prebuilt documents go outside)."""
    app.wsgi_app = RequestTelemetry(app.wsgi_app, count=settings.of(app).metrics_enabled)
