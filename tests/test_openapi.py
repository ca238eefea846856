"""``/openapi.json`` describes the JSON endpoints, and schemathesis finds no 5xx and no
answer that departs from it, anonymous or with valid client and bearer credentials.

Runtime is bounded: a fixed number of examples per operation, derandomized (the same
cases every run), no deadline.
"""

from __future__ import annotations

import base64

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from idp.clients import dcr

from .factories import make_portal, make_user

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
FUZZ = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


@pytest.fixture
def app_config(app_config):
    return {**app_config, "DCR_ENABLED": True}


@pytest.fixture
def api(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


@pytest.fixture
def credentials(app, oidc):
    """Valid credentials of each kind the document names: Basic, a bearer access token,
    an initial access token."""
    rp, secret = make_portal(first_party=True)
    tokens = oidc.tokens_for(rp, secret, make_user())
    basic = base64.b64encode(f"{rp.client_id}:{secret}".encode()).decode()
    return {"basic": f"Basic {basic}", "bearer": f"Bearer {tokens['access_token']}",
            "iat": f"Bearer {dcr.issue_initial_token('fuzz', ttl=3600, max_uses=50)[1]}"}


OPERATIONS = ["GET /.well-known/openid-configuration", "GET /jwks.json", "POST /oauth/token",
              "POST /par",
              "POST /oauth/introspect", "POST /oauth/revoke", "GET /userinfo", "POST /userinfo",
              "POST /connect/register", "GET /connect/register/{client_id}",
              "PUT /connect/register/{client_id}", "DELETE /connect/register/{client_id}"]


def headers_for(operation, credentials) -> dict:
    """A valid Authorization header for the operation's security scheme, if it has one."""
    schemes = {name for requirement in operation.definition.raw.get("security", [])
               for name in requirement}
    if "basic" in schemes:
        return {"Authorization": credentials["basic"]}
    if "bearer" in schemes:
        kind = "iat" if operation.path.startswith("/connect/") else "bearer"
        return {"Authorization": credentials[kind]}
    return {}


def fuzz(operation, headers: dict) -> None:
    """Call ``operation`` with generated cases; fail on a 5xx or an undocumented answer."""

    @FUZZ
    @given(case=operation.as_strategy())
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def test_document_is_openapi_3_1_and_lists_every_json_endpoint(client, api):
    """The document is served as JSON, names each JSON endpoint, and is valid OpenAPI."""
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.json
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/.well-known/openid-configuration", "/jwks.json", "/oauth/token", "/par",
        "/oauth/introspect", "/oauth/revoke", "/userinfo", "/connect/register",
        "/connect/register/{client_id}"}
    assert sorted(op.ok().label for op in api.get_all_operations()) == sorted(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_anonymous_requests_conform(api, label):
    """Generated requests without valid credentials: never 5xx, every answer documented."""
    fuzz(api.find_operation_by_label(label), {})


@pytest.mark.parametrize("label", OPERATIONS)
def test_authenticated_requests_conform(api, credentials, label):
    """The same with valid credentials for the operation's scheme."""
    operation = api.find_operation_by_label(label)
    fuzz(operation, headers_for(operation, credentials))
