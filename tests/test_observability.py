"""Request ids, /metrics and JSON log lines."""

from __future__ import annotations

import json
import logging

from prometheus_client import REGISTRY
from sqlalchemy import select

from idp import logs
from idp.extensions import db
from idp.models import AuditEvent

from .factories import make_user


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_valid_request_id_is_echoed_and_kept_in_the_audit_row(client):
    user = make_user()
    response = client.post("/login", data={"id_code": user.id_code, "password": "wrong-1234"},
                           headers={"X-Request-ID": "rp-4f2a.77"})
    assert response.headers["X-Request-ID"] == "rp-4f2a.77"
    row = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "login_failed"))
    assert row.request_id == "rp-4f2a.77"


def test_an_invalid_request_id_is_replaced(client):
    for bad in ("a b", "x" * 65, "<script>", ""):
        response = client.get("/healthz", headers={"X-Request-ID": bad})
        echoed = response.headers["X-Request-ID"]
        assert echoed != bad and len(echoed) == 32
    assert client.get("/jwks.json").headers["X-Request-ID"]  # answered before Flask too


def test_requests_and_sign_ins_are_counted_per_route(client):
    user = make_user()
    before = sample("idp_http_requests_total", method="POST", route="/login", status="200")
    failed = sample("idp_signins_total", outcome="failed")
    ok = sample("idp_signins_total", outcome="ok")
    client.post("/login", data={"id_code": user.id_code, "password": "wrong-1234"})
    client.post("/login", data={"id_code": user.id_code, "password": "Passw0rd!-unused"})
    client.get("/no/such/page/12345")
    assert sample("idp_http_requests_total", method="POST", route="/login",
                  status="200") == before + 2
    assert sample("idp_signins_total", outcome="failed") == failed + 2
    assert sample("idp_signins_total", outcome="ok") == ok
    text = client.get("/metrics").get_data(as_text=True)
    assert 'idp_http_requests_total{method="POST",route="/login",status="200"}' in text
    assert 'route="/no/such/page/12345"' not in text and 'route="unmatched"' in text
    assert "idp_http_request_duration_seconds_bucket" in text
    assert "idp_db_connections_in_use" in text


def test_tokens_are_counted_per_grant_type(oidc, client):
    from .factories import make_client

    service, secret = make_client(client_type="service", redirect_uris=[], scope="profile")
    before = sample("idp_tokens_issued_total", grant_type="client_credentials")
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(service.client_id, secret))
    assert response.status_code == 200, response.json
    assert sample("idp_tokens_issued_total", grant_type="client_credentials") == before + 1


def test_metrics_need_the_token_or_an_allowed_network(client, configure):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics").status_code == 200  # loopback, not production
    assert client.get("/metrics", environ_base=outside).status_code == 404
    configure(METRICS_TOKEN="scrape-token-0123456789")
    assert client.get("/metrics", environ_base=outside,
                      headers={"Authorization": "Bearer wrong"}).status_code == 404
    assert client.get("/metrics", environ_base=outside, headers={
        "Authorization": "Bearer scrape-token-0123456789"}).status_code == 200
    configure(METRICS_NETWORKS=("203.0.113.0/24",))
    assert client.get("/metrics", environ_base=outside).status_code == 200
    configure(ENV="production", METRICS_NETWORKS=())
    assert client.get("/metrics").status_code == 404  # loopback is not enough in production


def test_json_log_lines_carry_the_request_id_and_mask_identifiers():
    formatter = logs.JsonFormatter()
    token = logs.request_id.set("req-1")
    try:
        record = logging.LogRecord("idp.security", 25, __file__, 1, "%s %s",
                                   ("login_failed", '{"mobile": "09121234567"}'), None)
        record.event, record.fields_json = "login_failed", '{"ip": "127.0.0.1"}'
        line = json.loads(formatter.format(record))
        plain = json.loads(formatter.format(logging.LogRecord(
            "idp", 20, __file__, 1, "code %s", ("0012345678",), None)))
    finally:
        logs.request_id.reset(token)
    assert line["request_id"] == "req-1" and line["event"] == "login_failed"
    assert line["ip"] == "127.0.0.1" and line["level"] == "SECURITY"
    assert "0012345678" not in plain["event"] and plain["logger"] == "idp"


def test_the_grafana_dashboard_reads_only_metrics_the_idp_exports():
    """docs/grafana-dashboard.json names metrics that exist (with their suffixes)."""
    import re

    from prometheus_client import REGISTRY as registry

    from idp import metrics, settings

    assert metrics.requests  # the module registered its metrics
    families = {f.name for f in registry.collect() if f.name.startswith("idp_")}
    exported = families | {name + suffix for name in families
                           for suffix in ("_total", "_bucket", "_count", "_sum")}
    dashboard = (settings.PROJECT_ROOT / "docs" / "grafana-dashboard.json").read_text()
    used = set(re.findall(r"\b(idp_[a-z_]+)", dashboard))
    assert len(used) >= 9 and used <= exported, used - exported


def test_registry_calls_are_timed_and_unavailable_answers_counted(app):
    """The identity adapter sits inside MeasuredRegistry: each call is timed per adapter."""
    from idp.identity import registry

    before = sample("idp_adapter_duration_seconds_count", adapter="mobile_ownership",
                    operation="verify_mobile_owner")
    registry().verify_mobile_owner("national", "0012345678", "09121234567")
    assert sample("idp_adapter_duration_seconds_count", adapter="mobile_ownership",
                  operation="verify_mobile_owner") == before + 1


def test_prebuilt_documents_carry_a_request_id_and_are_counted(client):
    """Discovery and the JWKS are answered before the telemetry wrapper: they still echo
    a valid request id and count per route (304s too), without a latency observation."""
    path = "/.well-known/openid-configuration"
    ok = sample("idp_http_requests_total", method="GET", route=path, status="200")
    unchanged = sample("idp_http_requests_total", method="GET", route=path, status="304")
    latency = sample("idp_http_request_duration_seconds_count", method="GET", route=path)
    first = client.get(path, headers={"X-Request-ID": "rp-77"})
    assert first.headers["X-Request-ID"] == "rp-77"
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and len(again.headers["X-Request-ID"]) == 32
    assert sample("idp_http_requests_total", method="GET", route=path, status="200") == ok + 1
    assert sample("idp_http_requests_total", method="GET", route=path,
                  status="304") == unchanged + 1
    assert sample("idp_http_request_duration_seconds_count", method="GET",
                  route=path) == latency
    jwks = sample("idp_http_requests_total", method="HEAD", route="/jwks.json", status="200")
    assert client.head("/jwks.json").headers["X-Request-ID"]
    assert sample("idp_http_requests_total", method="HEAD", route="/jwks.json",
                  status="200") == jwks + 1
