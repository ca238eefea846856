"""The OpenAPI 3.1 description of the JSON endpoints, served at ``/openapi.json``.

Written by hand, for client developers and for the schemathesis run in the test suite
(``tests/test_openapi.py``), which checks that every answer conforms: token (RFC 6749
§5), introspection (RFC 7662), revocation (RFC 7009), UserInfo (OIDC Core §5.3),
registration and its management (RFC 7591, RFC 7592), JWKS and discovery. The pages
(``/authorize``, ``/login`` …) are browser flows, not part of it.
"""

from __future__ import annotations

import json

from ..settings import Settings
from .grants import AUTH_METHODS
from .metadata import SCOPE_CLAIMS

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _introspection_answer() -> dict:
    answer = _json(_ref("Introspection"), "The token's state.")
    # RFC 9701: a signed JWT instead, for clients registered with
    # introspection_signed_response_alg that ask for it with Accept.
    answer["content"]["application/token-introspection+jwt"] = {"schema": {
        "type": "string", "description": "A JWT (RFC 9701): iss, aud, iat and "
        "token_introspection (the JSON answer), typ token-introspection+jwt."}}
    return answer


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    answer = {"description": description, "content": {JSON: {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


_STR = {"type": "string"}
_INT = {"type": "integer"}
_STRS = {"type": "array", "items": _STR}
_NO_STORE = {"Cache-Control": {"schema": {"type": "string", "const": "no-store"}}}
_CHALLENGE = {"WWW-Authenticate": {"required": True, "schema": _STR}}

#: Answers every JSON endpoint may give besides its own.
_COMMON = {
    "413": _json(_ref("Error"), "The body is larger than MAX_CONTENT_LENGTH."),
    "429": _json(_ref("Error"), "Too many requests from this address (rate limit)."),
}
_CLIENT_ERRORS = {
    "400": _json(_ref("Error"), "RFC 6749 §5.2 error (invalid_request, invalid_client …)."),
    "401": _json(_ref("Error"), "Client authentication failed (invalid_client).",
                 _CHALLENGE),
    **_COMMON,
}
_BEARER_ERRORS = {
    "400": _json(_ref("Error"), "Malformed request (invalid_request)."),
    "401": _json(_ref("Error"), "Missing, invalid or expired access token (RFC 6750 §3.1).",
                 _CHALLENGE),
    "403": _json(_ref("Error"), "The token lacks the openid scope (insufficient_scope)."),
    **_COMMON,
}
_CLIENT_AUTH_FIELDS = {
    "client_id": _STR, "client_secret": _STR,
    "client_assertion_type": {
        "type": "string", "const": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
    "client_assertion": _STR,
}

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": _STR, "error_description": _STR, "error_uri": _STR},
    },
    "Token": {
        "type": "object", "required": ["access_token", "token_type", "expires_in"],
        "properties": {
            "access_token": _STR, "token_type": {"enum": ["Bearer", "DPoP"]},
            "expires_in": {"type": "integer", "minimum": 0}, "refresh_token": _STR,
            "id_token": _STR, "scope": _STR,
        },
    },
    "Introspection": {
        "type": "object", "required": ["active"],
        "properties": {
            "active": {"type": "boolean"}, "token_type": _STR, "scope": _STR,
            "client_id": _STR, "sub": _STR, "aud": {"type": ["string", "array"]},
            "iss": _STR, "exp": _INT, "iat": _INT, "jti": _STR,
            "cnf": {"type": "object", "properties": {"jkt": _STR}},  # RFC 9449 §6.2
        },
    },
    "UserInfo": {
        "type": "object", "required": ["sub"],
        "properties": {"sub": _STR, **{name: {} for names in SCOPE_CLAIMS.values()
                                       for name in names if name != "sub"}},
    },
    "JWKS": {
        "type": "object", "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": {
            "type": "object", "required": ["kty", "kid"],
            "properties": {"kty": {"enum": ["RSA", "EC"]}, "kid": _STR, "use": _STR,
                           "alg": _STR, "n": _STR, "e": _STR, "crv": _STR, "x": _STR,
                           "y": _STR},
            "not": {"anyOf": [{"required": [m]} for m in ("d", "p", "q", "dp", "dq", "qi")]},
        }}},
    },
    "Discovery": {
        "type": "object",
        "required": ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                     "response_types_supported", "subject_types_supported",
                     "id_token_signing_alg_values_supported"],
        "properties": {"issuer": _STR, "authorization_endpoint": _STR,
                       "token_endpoint": _STR, "jwks_uri": _STR, "userinfo_endpoint": _STR,
                       "registration_endpoint": _STR, "scopes_supported": _STRS,
                       "response_types_supported": _STRS, "subject_types_supported": _STRS,
                       "id_token_signing_alg_values_supported": _STRS},
    },
    "ClientMetadata": {
        "type": "object", "description": "RFC 7591 §2; members not listed are ignored.",
        "properties": {
            "client_name": _STR, "client_name#fa": _STR, "client_name#en": _STR,
            "redirect_uris": _STRS, "post_logout_redirect_uris": _STRS,
            "grant_types": {"type": "array", "items": {
                "enum": ["authorization_code", "refresh_token", "client_credentials"]}},
            "response_types": {"type": "array", "items": {"const": "code"}},
            "token_endpoint_auth_method": {"enum": AUTH_METHODS},
            "scope": _STR, "jwks": {"type": "object"}, "jwks_uri": _STR, "logo_uri": _STR,
            "backchannel_logout_uri": _STR,
            "id_token_signed_response_alg": {"enum": ["RS256", "ES256"]},
            "subject_type": {"enum": ["public", "pairwise"]},
            "require_pushed_authorization_requests": {"type": "boolean"},
            "request_object_signing_alg": {"enum": ["RS256", "PS256", "ES256"]},
            # OIDC Registration §2: among acr_values_supported (discovery)
            "default_acr_values": _STRS,
        },
    },
    "ClientInformation": {
        "type": "object",
        "required": ["client_id", "client_id_issued_at", "client_name", "redirect_uris",
                     "grant_types", "token_endpoint_auth_method", "scope",
                     "registration_access_token", "registration_client_uri"],
        "properties": {
            "client_id": _STR, "client_secret": _STR, "client_id_issued_at": _INT,
            "client_secret_expires_at": _INT, "client_name": _STR, "client_name#fa": _STR,
            "client_name#en": _STR, "redirect_uris": _STRS, "post_logout_redirect_uris": _STRS,
            "grant_types": _STRS, "response_types": _STRS,
            "token_endpoint_auth_method": _STR, "scope": _STR,
            "id_token_signed_response_alg": _STR, "subject_type": _STR, "logo_uri": _STR,
            "jwks_uri": _STR, "jwks": {"type": "object"}, "backchannel_logout_uri": _STR,
            "registration_access_token": _STR, "registration_client_uri": _STR,
            "require_pushed_authorization_requests": {"type": "boolean"},
            "request_object_signing_alg": _STR, "default_acr_values": _STRS,
        },
    },
    "PushedAuthorizationResponse": {
        "type": "object", "required": ["request_uri", "expires_in"],
        "properties": {"request_uri": {"type": "string",
                                       "pattern": "^urn:ietf:params:oauth:request_uri:"},
                       "expires_in": {"type": "integer", "minimum": 1}},
    },
}


def _form(properties: dict, required: list[str]) -> dict:
    return {"required": True, "content": {FORM: {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


def _token_path() -> dict:
    fields = {
        "grant_type": {"enum": ["authorization_code", "refresh_token", "client_credentials"]},
        "code": _STR, "redirect_uri": _STR, "code_verifier": _STR, "refresh_token": _STR,
        "scope": _STR, "resource": _STR, **_CLIENT_AUTH_FIELDS,
    }
    return {"post": {
        "operationId": "token", "summary": "Token endpoint (RFC 6749 §3.2, OIDC Core §3.1.3)",
        "security": [{"basic": []}, {}],
        "requestBody": _form(fields, ["grant_type"]),
        "responses": {"200": _json(_ref("Token"), "Tokens issued.", _NO_STORE),
                      **_CLIENT_ERRORS},
    }}


def _par_path() -> dict:
    fields = {
        "response_type": _STR, "redirect_uri": _STR, "scope": _STR, "state": _STR,
        "nonce": _STR, "code_challenge": _STR, "code_challenge_method": _STR, "prompt": _STR,
        "max_age": _STR, "claims": _STR, "login_hint": _STR, "acr_values": _STR,
        "resource": _STR, "request": _STR, **_CLIENT_AUTH_FIELDS,
    }
    return {"post": {
        "operationId": "pushed_authorization_request",
        "summary": "Pushed authorization request (RFC 9126 §2)",
        "security": [{"basic": []}, {}],
        "requestBody": _form(fields, []),
        "responses": {"201": _json(_ref("PushedAuthorizationResponse"),
                                   "Kept; send the browser to /authorize with client_id and "
                                   "this request_uri.", _NO_STORE),
                      **_CLIENT_ERRORS},
    }}


def _token_management(operation: str, summary: str, ok: dict) -> dict:
    fields = {"token": _STR, "token_type_hint": {"enum": ["access_token", "refresh_token"]},
              **_CLIENT_AUTH_FIELDS}
    return {"post": {
        "operationId": operation, "summary": summary, "security": [{"basic": []}, {}],
        "requestBody": _form(fields, ["token"]),
        "responses": {"200": ok, **_CLIENT_ERRORS},
    }}


def _userinfo() -> dict:
    def operation(method: str) -> dict:
        op = {"operationId": f"userinfo_{method}", "summary": "UserInfo (OIDC Core §5.3)",
              "security": [{"bearer": []}],
              "responses": {"200": _json(_ref("UserInfo"), "Claims released by scope."),
                            **_BEARER_ERRORS}}
        if method == "post":
            op["requestBody"] = {"required": False, "content": {FORM: {"schema": {
                "type": "object", "properties": {"access_token": _STR}}}}}
        return op

    return {"get": operation("get"), "post": operation("post")}


def _registration() -> dict:
    body = {"required": True, "content": {JSON: {"schema": _ref("ClientMetadata")}}}
    errors = {
        "400": _json(_ref("Error"), "invalid_client_metadata or invalid_redirect_uri."),
        "401": _json(_ref("Error"), "Missing or invalid bearer token (invalid_token).",
                     _CHALLENGE),
        "404": _json(_ref("Error"), "Dynamic registration is off (DCR_ENABLED)."),
        **_COMMON,
    }
    client_id = [{"name": "client_id", "in": "path", "required": True, "schema": _STR}]
    info = _json(_ref("ClientInformation"), "The client's metadata and a new registration "
                 "access token.", _NO_STORE)
    return {
        "/connect/register": {"post": {
            "operationId": "register", "summary": "Register a client (RFC 7591 §3.1)",
            "security": [{"bearer": []}], "requestBody": body,
            "responses": {"201": _json(_ref("ClientInformation"), "Registered.", _NO_STORE),
                          **errors},
        }},
        "/connect/register/{client_id}": {
            "parameters": client_id,
            "get": {"operationId": "read_client", "summary": "Read (RFC 7592 §2.1)",
                    "security": [{"bearer": []}], "responses": {"200": info, **errors}},
            "put": {"operationId": "update_client", "summary": "Replace (RFC 7592 §2.2)",
                    "security": [{"bearer": []}], "requestBody": body,
                    "responses": {"200": info, **errors}},
            "delete": {"operationId": "delete_client", "summary": "Delete (RFC 7592 §2.3)",
                       "security": [{"bearer": []}],
                       "responses": {"204": {"description": "Deleted."}, **errors}},
        },
    }


def build(cfg: Settings) -> dict:
    """Return the OpenAPI 3.1 document for the configured issuer."""
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{cfg.brand_system_en}: OpenID Connect JSON endpoints",
                 "version": "1"},
        "servers": [{"url": cfg.issuer}],
        "paths": {
            "/.well-known/openid-configuration": {"get": {
                "operationId": "discovery", "summary": "OpenID Connect Discovery 1.0 §4",
                "responses": {"200": _json(_ref("Discovery"), "Provider metadata.")}}},
            "/jwks.json": {"get": {
                "operationId": "jwks", "summary": "Public signing keys (RFC 7517)",
                "responses": {
                    "200": {"description": "The key set.", "content": {
                        "application/jwk-set+json": {"schema": _ref("JWKS")}}},
                    "304": {"description": "Unchanged (If-None-Match)."}}}},
            "/oauth/token": _token_path(),
            "/par": _par_path(),
            "/oauth/introspect": _token_management(
                "introspect", "Token introspection (RFC 7662)", _introspection_answer()),
            "/oauth/revoke": _token_management(
                "revoke", "Token revocation (RFC 7009)",
                {"description": "Revoked, or the token was unknown (RFC 7009 §2.2)."}),
            "/userinfo": _userinfo(),
            **_registration(),
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic",
                          "description": "client_secret_basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


def render(cfg: Settings) -> bytes:
    """Return the document as JSON bytes (computed once per app)."""
    return json.dumps(build(cfg), ensure_ascii=False, separators=(",", ":")).encode()
