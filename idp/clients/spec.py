"""What a client registration says: ``ClientSpec`` and the vocabulary of its fields."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

GRANTS_BY_TYPE = {
    "confidential": {"authorization_code", "refresh_token", "client_credentials"},
    "public": {"authorization_code", "refresh_token"},
    "service": {"client_credentials"},
}
AUTH_METHODS = {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
SECRET_METHODS = {"client_secret_basic", "client_secret_post"}
SCOPE_ORDER = ("openid", "profile", "email", "phone", "national_id", "offline_access")
SCOPES = set(SCOPE_ORDER)
GRANT_ORDER = ("authorization_code", "refresh_token", "client_credentials")
ID_TOKEN_ALGS = {"RS256", "ES256"}
#: Signatures accepted on request objects (RFC 9101); never "none".
REQUEST_OBJECT_ALGS = ("RS256", "PS256", "ES256")
INTROSPECTION_ALGS = {"RS256", "ES256"}  # RFC 9701 signed introspection answers
AUTHORIZATION_ALGS = {"RS256", "ES256"}  # JARM signed authorization responses
PROFILES = {"fapi2"}  # security profiles a client may be held to (idp.oidc.fapi2)
# Bounds an operator may give to a client's own token lifetimes, in seconds.
TTL_RANGES = {"access_token_ttl": (60, 86400), "refresh_token_ttl": (300, 31536000)}


@dataclass
class ClientSpec:
    """What an operator asks for when registering a client (checked by ``rules.validate``)."""

    name_fa: str
    client_type: str = "confidential"
    name_en: str = ""
    redirect_uris: list[str] = field(default_factory=list)
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    backchannel_logout_uri: str | None = None
    grant_types: list[str] = field(default_factory=list)
    scope: str = "openid profile"
    token_endpoint_auth_method: str | None = None
    jwks: dict | None = None
    jwks_uri: str | None = None
    id_token_signed_response_alg: str | None = None  # RS256, or ES256 for FAPI 2.0
    introspection_signed_response_alg: str | None = None
    authorization_signed_response_alg: str | None = None
    profile: str | None = None
    first_party: bool = False
    subject_type: str = "public"
    sector_identifier: str | None = None
    is_resource_server: bool = False
    resource_uri: str | None = None
    logo_uri: str | None = None
    access_token_ttl: int | None = None
    refresh_token_ttl: int | None = None
    require_pushed_authorization_requests: bool = False  # RFC 9126 §6
    request_object_signing_alg: str | None = None  # required request-object signature
    # RFC 9449 §5.2: token requests must carry a DPoP proof (sender-constrained tokens).
    dpop_bound_access_tokens: bool = False
    # acr values asked for when a request names none; the lowest level always required
    default_acr_values: list[str] = field(default_factory=list)
    minimum_acr: str | None = None
    client_id: str | None = None


#: The stored metadata a specification sets (every field but the id).
SPEC_FIELDS = tuple(f.name for f in fields(ClientSpec) if f.name != "client_id")
