"""CSRF sweep over ``app.url_map`` (issue 9, "still missing"): every state-changing route
refuses a request without a CSRF token, except an exact list of routes whose callers
authenticate as clients or carry their own protection. A new exempt route fails here."""

from __future__ import annotations

import logging

import pytest
from werkzeug.routing import IntegerConverter

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")

#: (endpoint, method) answered without Flask-WTF's token check, and why.
EXEMPT = {
    # Client-authenticated back channels (client secret, assertion or bearer token).
    ("oidc.token", "POST"), ("oidc.introspect", "POST"), ("oidc.revoke", "POST"),
    ("oidc.userinfo", "POST"),
    # RFC 9126: pushed authorization requests, client-authenticated like the token endpoint.
    ("oidc.par", "POST"),
    # RFC 7591/7592: bearer-authenticated JSON, no cookie.
    ("dcr.register", "POST"), ("dcr.update", "PUT"), ("dcr.delete", "DELETE"),
    # OIDC Core §3.1.2.1: authorization requests may be POSTed by any site; the view only
    # redirects to sign-in or consent (both CSRF-protected) or answers the client.
    ("oidc.authorize", "POST"),
    # OIDC RP-initiated logout: any portal may POST it; signing out needs the
    # confirmation form, whose CSRF token the view checks itself.
    ("oidc.logout", "POST"),
}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True, "DCR_ENABLED": True}


def sample_url(rule) -> str:
    """The rule's URL with a sample value for each argument."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        items = sorted(getattr(converter, "items", ()))
        values[name] = (items[0] if items else
                        1 if isinstance(converter, IntegerConverter) else "x")
    return rule.build(values, append_unknown=False)[1]


def state_changing_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(set(rule.methods) & set(STATE_CHANGING)):
            yield rule, method


def test_every_state_changing_route_needs_a_csrf_token(app, caplog):
    """Each POST/PUT/PATCH/DELETE without a token is refused by CSRF protection (400),
    except exactly the routes of ``EXEMPT``."""
    caplog.set_level(logging.INFO, logger="flask_wtf.csrf")
    http = app.test_client()
    unprotected, answers = set(), {}
    routes = list(state_changing_routes(app))
    assert len(routes) > 30  # the sweep sees the whole application
    for rule, method in routes:
        caplog.clear()
        response = http.open(sample_url(rule), method=method, data={"x": "1"})
        refused = any("CSRF token" in r.getMessage() for r in caplog.records)
        if refused:
            assert response.status_code == 400, (rule.endpoint, method)
        else:
            unprotected.add((rule.endpoint, method))
            answers[(rule.endpoint, method)] = response.status_code
    assert unprotected == EXEMPT, answers


def test_exempt_routes_refuse_a_request_without_client_credentials(app):
    """What is exempt from the token still refuses a caller that is not a client."""
    http = app.test_client()
    assert http.post("/oauth/token", data={"grant_type": "client_credentials"}) \
        .status_code == 401
    assert http.post("/oauth/introspect", data={"token": "x"}).status_code == 401
    assert http.post("/oauth/revoke", data={"token": "x"}).status_code == 401
    assert http.post("/userinfo").status_code == 401
    assert http.post("/par", data={"response_type": "code"}).status_code == 401
    metadata = {"client_name": "P", "redirect_uris": ["https://p.example.ir/cb"]}
    assert http.post("/connect/register", json=metadata).status_code == 401
    assert http.put("/connect/register/x", json={}).status_code == 401
    assert http.delete("/connect/register/x").status_code == 401
