"""Client metadata rules: what a client registration must satisfy, in one place.

``validate`` is used by the admin pages, the CLI and dynamic client registration alike;
it raises :class:`~idp.errors.DomainError` naming the offending field.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .. import settings
from ..errors import DomainError
from .keys import check_jwks
from .spec import (
    AUTH_METHODS,
    AUTHORIZATION_ALGS,
    GRANT_ORDER,
    GRANTS_BY_TYPE,
    ID_TOKEN_ALGS,
    INTROSPECTION_ALGS,
    PROFILES,
    REQUEST_OBJECT_ALGS,
    SCOPE_ORDER,
    SCOPES,
    TTL_RANGES,
    ClientSpec,
)

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*",
                       re.ASCII)


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
        loopback = parts.hostname in LOOPBACK_HOSTS
        if not (loopback and settings.current().oidc_allow_http_loopback):
            raise DomainError("redirect_uri_not_https", field=field_name, uri=uri)
    elif "." not in parts.scheme:
        # Custom schemes must be reverse-DNS names (RFC 8252 §7.1), never javascript: etc.
        raise DomainError("redirect_uri_invalid", field=field_name, uri=uri)


def check_web_uri(uri: str, field_name: str) -> None:
    """Refuse a URI the IdP or a browser fetches (logo, JWKS, back-channel) unless it is
    an absolute https URL (http only for loopback, like redirect URIs)."""
    if urlsplit(uri).scheme not in {"https", "http"}:
        raise DomainError("uri_not_web", field=field_name, uri=uri)
    check_redirect_uri(uri, field_name)


def _validate_grants_and_auth(spec: ClientSpec) -> None:
    allowed = GRANTS_BY_TYPE[spec.client_type]
    if not spec.grant_types:
        spec.grant_types = sorted(allowed - {"client_credentials"}) or ["client_credentials"]
    spec.grant_types = [g for g in GRANT_ORDER if g in spec.grant_types] + sorted(
        set(spec.grant_types) - set(GRANT_ORDER))
    if not set(spec.grant_types) <= allowed:
        raise DomainError("grant_type_not_allowed", field="grant_types")
    if "refresh_token" in spec.grant_types and "authorization_code" not in spec.grant_types:
        raise DomainError("refresh_needs_code", field="grant_types")
    if spec.token_endpoint_auth_method is None:
        spec.token_endpoint_auth_method = (
            "none" if spec.client_type == "public"
            else "private_key_jwt" if spec.profile == "fapi2" else "client_secret_basic"
        )
    method = spec.token_endpoint_auth_method
    if method not in AUTH_METHODS:
        raise DomainError("auth_method_invalid", field="token_endpoint_auth_method")
    # Public clients cannot keep a secret; they prove the code exchange with PKCE instead,
    # which the authorization endpoint requires of every client using method "none".
    if (spec.client_type == "public") != (method == "none"):
        raise DomainError("auth_method_for_type", field="token_endpoint_auth_method")
    if spec.jwks and spec.jwks_uri:
        # RFC 7591 §2: the jwks_uri and jwks parameters MUST NOT both be present.
        raise DomainError("jwks_both", field="jwks")
    if spec.jwks is not None:
        check_jwks(spec.jwks)
    if spec.jwks_uri:
        check_web_uri(spec.jwks_uri, "jwks_uri")
    if method == "private_key_jwt" and not (spec.jwks or spec.jwks_uri):
        raise DomainError("jwks_required", field="jwks")


def _validate_uris(spec: ClientSpec) -> None:
    if "authorization_code" in spec.grant_types and not spec.redirect_uris:
        raise DomainError("redirect_uri_required", field="redirect_uris")
    if spec.client_type == "service" and (spec.redirect_uris or spec.post_logout_redirect_uris):
        raise DomainError("redirect_uri_not_allowed", field="redirect_uris")
    for uri in spec.redirect_uris:
        check_redirect_uri(uri)
    for uri in spec.post_logout_redirect_uris:
        check_redirect_uri(uri, "post_logout_redirect_uris")
    if spec.backchannel_logout_uri:
        check_web_uri(spec.backchannel_logout_uri, "backchannel_logout_uri")
    if spec.logo_uri:
        check_web_uri(spec.logo_uri, "logo_uri")
    if spec.resource_uri:
        # RFC 8707 §2: an absolute URI without a fragment; https like redirect URIs.
        if not spec.is_resource_server:
            raise DomainError("resource_uri_needs_resource_server", field="resource_uri")
        check_web_uri(spec.resource_uri, "resource_uri")


def _validate_subject(spec: ClientSpec) -> None:
    if spec.subject_type not in {"public", "pairwise"}:
        raise DomainError("subject_type_invalid", field="subject_type")
    if spec.subject_type != "pairwise":
        return
    if spec.sector_identifier:
        spec.sector_identifier = spec.sector_identifier.strip().lower()
        if not _HOSTNAME.fullmatch(spec.sector_identifier):
            raise DomainError("sector_identifier_invalid", field="sector_identifier")
        return
    # OIDC Core §8.1: without a sector identifier every redirect URI must share one host.
    hosts = {urlsplit(uri).hostname for uri in spec.redirect_uris} - {None}
    if len(hosts) != 1:
        raise DomainError("sector_identifier_required", field="sector_identifier")
    spec.sector_identifier = hosts.pop()


def _validate_acr(spec: ClientSpec) -> None:
    """Only the configured assurance levels (``ACR_LEVELS``), each named once."""
    levels = settings.current().acr_levels
    values = spec.default_acr_values or []
    if not isinstance(values, list) or any(v not in levels for v in values):
        raise DomainError("acr_invalid", field="default_acr_values")
    spec.default_acr_values = list(dict.fromkeys(values))
    spec.minimum_acr = spec.minimum_acr or None
    if spec.minimum_acr is not None and spec.minimum_acr not in levels:
        raise DomainError("acr_invalid", field="minimum_acr")


# A chosen client_id: letters, digits and . _ - (not first), so it is safe in URLs, logs and
# as a command-line argument.
CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)


#: FAPI 2.0 §5.4.1 allows PS256, ES256 and EdDSA; of the algorithms this IdP signs with,
#: that leaves ES256 (RS256 is PKCS#1 v1.5, not PSS).
FAPI2_SIGNING_ALGS = {"ES256"}


def _validate_profile(spec: ClientSpec) -> None:
    """The registration rules of a security profile (the runtime ones: ``idp.oidc.fapi2``).

    FAPI 2.0 Security Profile §5.3.2.1: confidential clients only (3), authenticated with
    ``private_key_jwt`` (6; mTLS is not offered); §5.3.2.2 (8): no http redirect URI but
    loopback, and no custom scheme (a confidential client is a web server); §5.4.1: the
    JWTs the IdP signs for the client use ES256.
    """
    if spec.profile is None:
        return
    if spec.profile not in PROFILES:
        raise DomainError("profile_invalid", field="profile")
    if spec.client_type == "public":
        raise DomainError("fapi2_public_client", field="client_type")
    if spec.token_endpoint_auth_method != "private_key_jwt":
        raise DomainError("fapi2_auth_method", field="token_endpoint_auth_method")
    for uri in spec.redirect_uris:
        parts = urlsplit(uri)
        if parts.scheme != "https" and not (parts.scheme == "http"
                                            and parts.hostname in LOOPBACK_HOSTS):
            raise DomainError("fapi2_redirect_uri", field="redirect_uris", uri=uri)
    if spec.id_token_signed_response_alg not in FAPI2_SIGNING_ALGS:
        raise DomainError("fapi2_alg", field="id_token_signed_response_alg")
    for name in ("introspection_signed_response_alg", "authorization_signed_response_alg"):
        if getattr(spec, name) not in (None, *FAPI2_SIGNING_ALGS):
            raise DomainError("fapi2_alg", field=name)


def validate(spec: ClientSpec) -> ClientSpec:
    """Check a client specification and fill in the defaults of its type.

    :raises DomainError: naming the offending field.
    """
    if spec.client_id is not None and not CLIENT_ID.fullmatch(spec.client_id):
        raise DomainError("client_id_invalid", field="client_id")
    if spec.client_type not in GRANTS_BY_TYPE:
        raise DomainError("client_type_invalid", field="client_type")
    spec.name_fa = (spec.name_fa or "").strip()
    spec.name_en = (spec.name_en or "").strip()
    if not spec.name_fa:
        raise DomainError("required", field="name_fa")
    if len(spec.name_fa) > 200 or len(spec.name_en) > 200:
        raise DomainError("name_too_long", field="name_fa" if len(spec.name_fa) > 200
                          else "name_en")
    _validate_grants_and_auth(spec)
    _validate_uris(spec)
    scopes = set((spec.scope or "").split())
    if not scopes or not scopes <= SCOPES:
        raise DomainError("scope_invalid", field="scope")
    spec.scope = " ".join(s for s in SCOPE_ORDER if s in scopes)  # one spelling per set
    spec.redirect_uris = list(dict.fromkeys(spec.redirect_uris))
    spec.post_logout_redirect_uris = list(dict.fromkeys(spec.post_logout_redirect_uris))
    if spec.id_token_signed_response_alg is None:
        spec.id_token_signed_response_alg = "ES256" if spec.profile == "fapi2" else "RS256"
    if spec.id_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise DomainError("id_token_alg_invalid", field="id_token_signed_response_alg")
    spec.introspection_signed_response_alg = spec.introspection_signed_response_alg or None
    if spec.introspection_signed_response_alg not in (None, *INTROSPECTION_ALGS):
        raise DomainError("introspection_alg_invalid",
                          field="introspection_signed_response_alg")
    spec.authorization_signed_response_alg = spec.authorization_signed_response_alg or None
    if spec.authorization_signed_response_alg not in (None, *AUTHORIZATION_ALGS):
        raise DomainError("authorization_alg_invalid",
                          field="authorization_signed_response_alg")
    spec.profile = spec.profile or None
    _validate_profile(spec)
    _validate_subject(spec)
    spec.request_object_signing_alg = spec.request_object_signing_alg or None
    if spec.request_object_signing_alg is not None:
        if spec.request_object_signing_alg not in REQUEST_OBJECT_ALGS:
            raise DomainError("request_object_alg_invalid", field="request_object_signing_alg")
        if not (spec.jwks or spec.jwks_uri):
            # Its request objects are checked with the keys it registered.
            raise DomainError("request_object_jwks_required", field="jwks")
    spec.require_pushed_authorization_requests = bool(spec.require_pushed_authorization_requests)
    _validate_acr(spec)
    for name, (low, high) in TTL_RANGES.items():
        value = getattr(spec, name)
        if value is not None and not low <= value <= high:
            raise DomainError("ttl_out_of_range", field=name, low=low, high=high)
    return spec
