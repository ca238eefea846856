"""Prometheus metrics: what operators watch, counted where it happens.

Each counter is incremented by the module that owns the event (a sign-in by the audit
trail's ``login_*`` events, an SMS by :func:`idp.sms.send_template`, a token by the
token generator …); requests are counted per route rule by :mod:`idp.observability`,
which also serves ``/metrics``. With several worker processes, prometheus-client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``config/server.py``) adds up
what every worker counted. Counting a request costs about 8 µs of CPU (a counter and a
histogram, their series kept); an event counter about 3 µs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY as _PROCESS_REGISTRY
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from . import settings

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

requests = Counter("idp_http_requests_total", "HTTP requests answered, per route rule",
                   ["method", "route", "status"])
request_seconds = Histogram("idp_http_request_duration_seconds",
                            "Time to answer a request, per route rule", ["method", "route"],
                            buckets=_LATENCY_BUCKETS)
rate_limited = Counter("idp_rate_limit_hits_total", "Requests refused with 429", ["route"])
signins = Counter("idp_signins_total", "Password sign-ins by outcome (ok, failed, locked, "
                  "refused)", ["outcome"])
registrations = Counter("idp_registrations_total", "Registration wizard drafts started and "
                        "accounts completed", ["stage"])
registration_refusals = Counter("idp_registration_refusals_total",
                                "Registration steps refused, per reason", ["reason"])
sms = Counter("idp_sms_total", "SMS messages by purpose (template) and result",
              ["purpose", "result"])
mail = Counter("idp_mail_total", "Mail messages queued in the outbox, by template",
               ["template"])
tokens = Counter("idp_tokens_issued_total", "Access tokens issued, per grant type",
                 ["grant_type"])
adapter_seconds = Histogram("idp_adapter_duration_seconds", "Calls to the civil registry, "
                            "mobile-ownership service and SMS provider",
                            ["adapter", "operation"], buckets=_LATENCY_BUCKETS)
adapter_failures = Counter("idp_adapter_failures_total", "Adapter calls that failed or "
                           "answered 'unavailable'", ["adapter", "operation"])
backchannel = Counter("idp_backchannel_logouts_total", "Back-channel logout delivery attempts "
                      "by result", ["result"])
db_connections = Gauge("idp_db_connections_in_use", "Database connections checked out of "
                       "the pools", multiprocess_mode="livesum")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REQUEST_SERIES: dict[tuple[str, str, str], tuple] = {}


def observe_request(method: str, route: str, status: str, seconds: float) -> None:
    """Count one answer and its latency. The labelled series are kept (``labels()`` costs
    three times the increment); any other method is ``OTHER``, so a client cannot make
    series without bound."""
    key = (method if method in _METHODS else "OTHER", route, status)
    series = _REQUEST_SERIES.get(key)
    if series is None:
        series = _REQUEST_SERIES[key] = (requests.labels(*key),
                                         request_seconds.labels(key[0], route))
    series[0].inc()
    series[1].observe(seconds)


_COUNTERS: dict[tuple[str, str, str], object] = {}


def count_request(method: str, route: str, status: str) -> None:
    """Count one answer without its latency: for the prebuilt documents, answered in
    microseconds (:mod:`idp.oidc.documents`). ``method`` is ``GET`` or ``HEAD`` there."""
    key = (method, route, status)
    counter = _COUNTERS.get(key)
    if counter is None:
        counter = _COUNTERS[key] = requests.labels(*key)
    counter.inc()


# Audit events that are sign-in outcomes (idp.accounts.signin records them).
_SIGNIN_EVENTS = {"login_ok": "ok", "login_failed": "failed", "login_lockout": "locked"}


def audited(event: str, fields: dict) -> None:
    """Count an audited event that is also a metric (called by :func:`idp.audit.record`)."""
    if event in _SIGNIN_EVENTS:
        signins.labels(_SIGNIN_EVENTS[event]).inc()
    elif event == "login_refused":
        reason = fields.get("reason")
        signins.labels("locked" if reason == "temporarily_locked" else "refused").inc()
    elif event == "registration_completed":
        registrations.labels("completed").inc()
    elif event == "registration_duplicate":
        registration_refusals.labels("registration_account_exists").inc()


@contextmanager
def adapter_call(adapter: str, operation: str) -> Iterator[None]:
    """Time an adapter call; an exception counts as a failure (and is re-raised)."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        adapter_failures.labels(adapter, operation).inc()
        raise
    finally:
        adapter_seconds.labels(adapter, operation).observe(time.perf_counter() - started)


def exposition() -> bytes:
    """The metrics of every worker process (multiprocess mode) or of this process."""
    directory = settings.prometheus_multiproc_dir()
    if not directory:
        return generate_latest(_PROCESS_REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)
