"""Registered client applications (portals). The secret is kept only as a keyed hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

CLIENT_TYPES = ("confidential", "public", "service")


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(128))
    previous_secret_hash: Mapped[str | None] = mapped_column(String(128))
    previous_secret_expires_at: Mapped[datetime | None]
    name_fa: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    logo_uri: Mapped[str | None] = mapped_column(String(500))
    client_type: Mapped[str] = mapped_column(String(16), default="confidential")
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    response_types: Mapped[list] = mapped_column(JSON, default=list)
    scope: Mapped[str] = mapped_column(Text, default="openid")
    token_endpoint_auth_method: Mapped[str] = mapped_column(
        String(32), default="client_secret_basic"
    )
    jwks: Mapped[dict | None] = mapped_column(JSON)
    jwks_uri: Mapped[str | None] = mapped_column(String(500))
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(8), default="RS256")
    # RFC 9701: sign introspection answers with this algorithm when the client asks for
    # application/token-introspection+jwt; None: the client is not registered for it.
    introspection_signed_response_alg: Mapped[str | None] = mapped_column(String(8))
    # JARM: sign authorization responses with this algorithm (None: RS256, ES256 for FAPI 2.0).
    authorization_signed_response_alg: Mapped[str | None] = mapped_column(String(8))
    # None, or "fapi2": the FAPI 2.0 Security Profile is enforced for this client.
    profile: Mapped[str | None] = mapped_column(String(16))
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)
    subject_type: Mapped[str] = mapped_column(String(16), default="public")
    sector_identifier: Mapped[str | None] = mapped_column(String(255))
    is_resource_server: Mapped[bool] = mapped_column(Boolean, default=False)
    # RFC 8707: the ``resource`` value naming this resource server (access token ``aud``).
    resource_uri: Mapped[str | None] = mapped_column(String(500), unique=True)
    access_token_ttl: Mapped[int | None] = mapped_column(Integer)
    refresh_token_ttl: Mapped[int | None] = mapped_column(Integer)
    # RFC 9449 §5.2: every token request of this client must carry a DPoP proof.
    dpop_bound_access_tokens: Mapped[bool] = mapped_column(Boolean, default=False)
    # OIDC Registration §2: the acr values asked for when a request names none, and the
    # lowest level every sign-in for this client must reach (idp.accounts.assurance).
    default_acr_values: Mapped[list] = mapped_column(JSON, default=list)
    minimum_acr: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # RFC 9126 §6: authorization requests only through the PAR endpoint.
    require_pushed_authorization_requests: Mapped[bool] = mapped_column(Boolean, default=False)
    # OIDC Dynamic Client Registration §2: request objects must be signed with this alg.
    request_object_signing_alg: Mapped[str | None] = mapped_column(String(8))
    registration_token_hash: Mapped[str | None] = mapped_column(String(128))  # RFC 7592
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ClientsVersion(Base):
    """One row counting changes to ``clients``: bumped in the transaction of every change.

    Processes that cache client rows compare it to the value they loaded under
    (``idp.clients.cache``), so a change made by one process reaches the others.
    """

    __tablename__ = "clients_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
