"""The discovery document (OpenID Connect Discovery 1.0 §3), built once from settings."""

from __future__ import annotations

import json

from ..settings import Settings

#: DPoP proof algorithms (kept here so discovery needs no JOSE import; ``dpop`` uses it).
DPOP_ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA", "Ed25519")
#: ``private_key_jwt`` client assertions (RFC 7523); never ``none`` or an HMAC.
ASSERTION_ALGORITHMS = ("RS256", "PS256", "ES256")

SCOPE_CLAIMS = {
    "openid": ["sub"],
    "profile": ["name", "given_name", "family_name", "gender", "birthdate", "locale"],
    "email": ["email", "email_verified"],
    "phone": ["phone_number", "phone_number_verified"],
    "national_id": ["national_code", "fida_code", "father_name", "birthdate_jalali"],
}

PATHS = {
    "authorization_endpoint": "/authorize",
    "token_endpoint": "/oauth/token",
    "userinfo_endpoint": "/userinfo",
    "jwks_uri": "/jwks.json",
    "revocation_endpoint": "/oauth/revoke",
    "introspection_endpoint": "/oauth/introspect",
    "end_session_endpoint": "/logout",
    "pushed_authorization_request_endpoint": "/par",  # RFC 9126 §5
}
#: RFC 9101 request object signatures (``idp.oidc.request_object.ALGORITHMS``).
REQUEST_OBJECT_ALGS = ["RS256", "PS256", "ES256"]


def build(cfg: Settings) -> dict:
    """Return the discovery metadata for the configured issuer."""
    issuer = cfg.issuer
    claims = ["iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid"]
    for names in SCOPE_CLAIMS.values():
        claims += [n for n in names if n not in claims]
    auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
    return {
        "issuer": issuer,
        **{name: issuer + path for name, path in PATHS.items()},
        "scopes_supported": [*SCOPE_CLAIMS, "offline_access"],
        "claims_supported": claims,
        "response_types_supported": ["code"],
        # JARM §3: the JWT modes; form_post only as form_post.jwt.
        "response_modes_supported": ["query", "jwt", "query.jwt", "fragment.jwt",
                                     "form_post.jwt"],
        "authorization_signing_alg_values_supported": ["RS256", "ES256"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods[:3],
        # RFC 8414 §2: required wherever private_key_jwt is listed.
        "revocation_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        "introspection_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGORITHMS),
        # RFC 9701 §7: algorithms of signed introspection answers.
        "introspection_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        # RFC 9449 §5.1: the algorithms accepted in DPoP proofs.
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
        "claims_parameter_supported": True,
        # Initiating User Registration via OpenID Connect 1.0 §4: "create" must be listed.
        "prompt_values_supported": ["none", "login", "consent", "select_account", "create"],
        # RFC 9101 by value; request_uri only for this server's PAR URNs (RFC 9126 §5).
        "request_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "request_object_signing_alg_values_supported": REQUEST_OBJECT_ALGS,
        **({"require_pushed_authorization_requests": True} if cfg.require_par else {}),
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        **({"registration_endpoint": issuer + "/connect/register"}  # RFC 7591 §3
           if cfg.dcr_enabled else {}),
        "ui_locales_supported": ["fa", "en"],
        "claims_locales_supported": ["fa"],
        "acr_values_supported": list(cfg.acr_levels),
    }


def render(cfg: Settings) -> bytes:
    """Return the discovery document as compact JSON bytes (computed once per app)."""
    return json.dumps(build(cfg), ensure_ascii=False, separators=(",", ":")).encode()
