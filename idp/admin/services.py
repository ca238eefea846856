"""Client applications: register, validate and look up the portals that use the IdP.

The CLI (``flask clients …``) and the admin pages call these same functions.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from .. import audit
from ..errors import DomainError
from ..extensions import db
from ..models import Client
from ..security.hashing import keyed_hash

GRANTS_BY_TYPE = {
    "confidential": {"authorization_code", "refresh_token", "client_credentials"},
    "public": {"authorization_code", "refresh_token"},
    "service": {"client_credentials"},
}
AUTH_METHODS = {"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
SCOPES = {"openid", "profile", "email", "phone", "national_id", "offline_access"}
ID_TOKEN_ALGS = {"RS256", "ES256"}
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "[::1]"}


@dataclass
class ClientSpec:
    """What an operator asks for when registering a client (validated by ``validate``)."""

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
    id_token_signed_response_alg: str = "RS256"
    first_party: bool = False
    subject_type: str = "public"
    sector_identifier: str | None = None
    is_resource_server: bool = False
    logo_uri: str | None = None
    access_token_ttl: int | None = None
    refresh_token_ttl: int | None = None
    client_id: str | None = None


def check_redirect_uri(uri: str, field_name: str = "redirect_uris") -> None:
    """Refuse a redirect URI that is relative, has a fragment or wildcard, or plain http.

    Plain http is accepted only for loopback hosts (native apps and development, RFC 8252
    §7.3) and only while ``OIDC_ALLOW_HTTP_LOOPBACK`` is on; custom schemes
    (``ir.example.app:/cb``) are native-app redirects.
    """
    parts = urlsplit(uri)
    if not parts.scheme or "*" in uri or parts.fragment or "#" in uri:
        raise DomainError("redirect_uri_invalid", field=field_name, uri=uri)
    if parts.scheme == "https":
        if not parts.netloc:
            raise DomainError("redirect_uri_invalid", field=field_name, uri=uri)
    elif parts.scheme == "http":
        loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if not (loopback and current_app.config["OIDC_ALLOW_HTTP_LOOPBACK"]):
            raise DomainError("redirect_uri_not_https", field=field_name, uri=uri)
    elif "." not in parts.scheme:
        # Custom schemes must be reverse-DNS names (RFC 8252 §7.1), never javascript: etc.
        raise DomainError("redirect_uri_invalid", field=field_name, uri=uri)


def validate(spec: ClientSpec) -> ClientSpec:
    """Check a client specification and fill in the defaults of its type.

    :raises DomainError: naming the offending field.
    """
    if spec.client_type not in GRANTS_BY_TYPE:
        raise DomainError("client_type_invalid", field="client_type")
    if not spec.name_fa.strip():
        raise DomainError("required", field="name_fa")
    allowed = GRANTS_BY_TYPE[spec.client_type]
    if not spec.grant_types:
        spec.grant_types = sorted(allowed - {"client_credentials"}) or ["client_credentials"]
    if not set(spec.grant_types) <= allowed:
        raise DomainError("grant_type_not_allowed", field="grant_types")
    if spec.token_endpoint_auth_method is None:
        spec.token_endpoint_auth_method = (
            "none" if spec.client_type == "public" else "client_secret_basic"
        )
    method = spec.token_endpoint_auth_method
    if method not in AUTH_METHODS:
        raise DomainError("auth_method_invalid", field="token_endpoint_auth_method")
    if (spec.client_type == "public") != (method == "none"):
        raise DomainError("auth_method_for_type", field="token_endpoint_auth_method")
    if method == "private_key_jwt" and not (spec.jwks or spec.jwks_uri):
        raise DomainError("jwks_required", field="jwks")
    if "authorization_code" in spec.grant_types and not spec.redirect_uris:
        raise DomainError("redirect_uri_required", field="redirect_uris")
    for uri in spec.redirect_uris:
        check_redirect_uri(uri)
    for uri in spec.post_logout_redirect_uris:
        check_redirect_uri(uri, "post_logout_redirect_uris")
    if spec.backchannel_logout_uri:
        check_redirect_uri(spec.backchannel_logout_uri, "backchannel_logout_uri")
    scopes = spec.scope.split()
    if not scopes or not set(scopes) <= SCOPES:
        raise DomainError("scope_invalid", field="scope")
    if spec.id_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise DomainError("id_token_alg_invalid", field="id_token_signed_response_alg")
    if spec.subject_type not in {"public", "pairwise"}:
        raise DomainError("subject_type_invalid", field="subject_type")
    if spec.subject_type == "pairwise" and not spec.sector_identifier:
        spec.sector_identifier = urlsplit(spec.redirect_uris[0]).hostname if spec.redirect_uris \
            else None
        if not spec.sector_identifier:
            raise DomainError("sector_identifier_required", field="sector_identifier")
    return spec


def hash_client_secret(secret: str) -> str:
    return keyed_hash(secret, "client_secret")


def register_client(spec: ClientSpec, actor_id: int | None = None) -> tuple[Client, str | None]:
    """Validate and store a client; return it with its secret (shown once, never stored).

    Public clients get no secret. ``spec.client_id`` may fix the id (demo data, imports).

    :raises DomainError: when the specification is invalid or the client id is taken.
    """
    spec = validate(spec)
    client_id = spec.client_id or secrets.token_urlsafe(16)
    if db.session.scalar(select(Client.id).where(Client.client_id == client_id)):
        raise DomainError("client_id_taken", field="client_id")
    secret = None
    if spec.token_endpoint_auth_method in {"client_secret_basic", "client_secret_post"}:
        secret = secrets.token_urlsafe(32)  # 256 bits
    values = {k: v for k, v in vars(spec).items() if k != "client_id"}
    client = Client(client_id=client_id, secret_hash=secret and hash_client_secret(secret),
                    response_types=["code"] if spec.redirect_uris else [], **values)
    db.session.add(client)
    db.session.flush()
    audit.record("client_created", actor_id=actor_id, client_id=client_id,
                 client_type=spec.client_type)
    db.session.commit()
    return client, secret


def get_client(client_id: str) -> Client:
    """Return the client or raise ``DomainError("client_not_found")``."""
    client = db.session.scalar(select(Client).where(Client.client_id == client_id))
    if client is None:
        raise DomainError("client_not_found", field="client_id")
    return client


def client_summary(client: Client) -> dict:
    """Return the stored metadata of a client as JSON-ready data (never a secret)."""
    names = ["client_id", "name_fa", "name_en", "client_type", "redirect_uris",
             "post_logout_redirect_uris", "backchannel_logout_uri", "grant_types", "scope",
             "token_endpoint_auth_method", "jwks_uri", "id_token_signed_response_alg",
             "first_party", "subject_type", "sector_identifier", "is_resource_server", "enabled"]
    return {name: getattr(client, name) for name in names}
