"""Revocation (RFC 7009), introspection (RFC 7662), UserInfo and RP-initiated logout."""

from __future__ import annotations

from authlib.consts import default_json_headers
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, TokenMixin
from authlib.oauth2.rfc6750 import BearerTokenValidator, InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint
from authlib.oidc.core import UserInfoEndpoint as _UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint as _EndSessionEndpoint
from flask import g
from flask import request as flask_request

from ..accounts.session import logout_user
from ..clients import cache as client_cache
from ..extensions import now
from ..grants import tokens as grant_tokens
from . import claims as claims_mod
from . import dpop, jwt_introspection, storage, tokens
from .grants import AUTH_METHODS, SECRET_METHODS
from .metadata import PATHS


class IssuedToken(TokenMixin):
    """An access or refresh token this server issued, with its grant, client and user.

    Records, not ORM rows: ``family`` is a ``Grant``, ``user`` a ``GrantUser`` (``None``
    for client credentials), ``client_row`` a cached ``ClientSnapshot`` (``None`` once
    the client is deleted).
    """

    def __init__(self, kind, family, client_row, user, access=None, refresh=None, claims=None):
        self.kind, self.family, self.client_row, self.user = kind, family, client_row, user
        self.access, self.refresh, self.claims = access, refresh, claims or {}

    def check_client(self, client) -> bool:
        return self.family.client_id == client.client_id

    def get_scope(self):
        return self.claims.get("scope", self.family.scope)

    def get_expires_in(self):
        return max(0, int((self._row().expires_at - now()).total_seconds()))

    def is_expired(self) -> bool:
        return self._row().expires_at <= now()

    def _row(self):
        return self.access if self.kind == "access_token" else self.refresh

    def is_revoked(self) -> bool:
        if self.refresh is not None and self.refresh.rotated_at is not None:
            return True
        return not grant_tokens.token_is_live(None, self.family, self.user, self.client_row) or (
            self.access is not None and self.access.revoked_at is not None)

    def get_user(self):
        return self.user

    def get_client(self):
        return storage.OAuthClient(self.client_row)


def find_token(token_string: str) -> IssuedToken | None:
    """Find a token by its value: a JWT is an access token, anything else a refresh token.

    The format decides, not ``token_type_hint`` (RFC 7009 §2.1 and RFC 7662 §2.1 let the
    server search every type).
    """
    if token_string.count(".") == 2:
        try:
            _, claims = tokens.verify(token_string, typ=tokens.ACCESS_TOKEN_TYP, check_exp=False)
        except tokens.TokenError:
            return None
        state = grant_tokens.access_token_state(claims.get("jti", ""))
        if state is None:
            return None
        access, family, user = state
        return IssuedToken("access_token", family, client_cache.find(family.client_id), user,
                           access=access, claims=claims)
    found = grant_tokens.find_refresh(token_string)
    if found is None:
        return None
    refresh, family, user = found
    return IssuedToken("refresh_token", family, client_cache.find(family.client_id), user,
                       refresh=refresh)


class _HintIsOnlyAHint:
    """``token_type_hint`` never fails a request: "an invalid token type hint value is
    ignored" (RFC 7009 §2.1), and ``find_token`` searches every type anyway (RFC 7662 §2.1).
    Authlib would answer ``unsupported_token_type`` with a 401."""

    def check_params(self, request, client):
        if not request.form.get("token"):
            raise InvalidRequestError("The token parameter is required.")


class RevocationEndpoint(_HintIsOnlyAHint, _RevocationEndpoint):
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def revoke_token(self, token, request):
        if token.kind == "access_token":
            storage.revoke_access_token(token.claims["jti"])
        else:
            # RFC 7009 §2.1: revoking a refresh token ends the grant and its access tokens.
            storage.revoke_refresh_token(token.family.id)


class IntrospectionEndpoint(_HintIsOnlyAHint, _IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = SECRET_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def create_endpoint_response(self, request):
        """RFC 7662's answer, as a signed JWT (RFC 9701) for a client registered for it
        that asks for one with ``Accept``; plain JSON otherwise."""
        status, body, headers = super().create_endpoint_response(request)
        client = request.client
        if client.introspection_signed_response_alg \
                and jwt_introspection.wants_jwt(request.headers.get("Accept")):
            return jwt_introspection.signed_answer(body, client)
        return status, body, headers

    def check_permission(self, token, client, request):
        # A client sees only its own tokens, unless an admin made it a resource server
        # (which covers the tokens whose ``aud`` is its RFC 8707 resource_uri).
        return bool(client.is_resource_server) or token.check_client(client)

    def introspect_token(self, token):
        client = storage.OAuthClient(token.client_row)
        if token.kind == "access_token":
            # RFC 9449 §6.2: a DPoP-bound token's type and key confirmation.
            bound = "cnf" in token.claims
            return {"active": True, "token_type": "DPoP" if bound else "Bearer", **{
                k: token.claims[k] for k in ("scope", "client_id", "sub", "aud", "iss", "exp",
                                             "iat", "jti", "cnf") if k in token.claims}}
        body = {"active": True, "token_type": "refresh_token", "scope": token.family.scope,
                "client_id": client.client_id, "iss": tokens.issuer(),
                "exp": tokens.timestamp(token.refresh.expires_at),
                "iat": tokens.timestamp(token.refresh.created_at)}
        if token.user is not None:
            body["sub"] = claims_mod.subject(token.user, client)
        if token.family.dpop_jkt and client.is_public:
            body["cnf"] = {"jkt": token.family.dpop_jkt}  # bound only for public clients
        return body


class MissingTokenError(OAuth2Error):
    """RFC 6750 §3.1: no credentials at all → 401 with a bare ``Bearer`` challenge."""

    error = "invalid_token"
    description = "An access token is required."
    status_code = 401

    def get_headers(self):
        # RFC 9449 §7.1: both schemes are offered, each with its own challenge.
        return super().get_headers() + [
            ("WWW-Authenticate", f'Bearer realm="{tokens.issuer()}"'),
            ("WWW-Authenticate", f'DPoP algs="{" ".join(dpop.ALGORITHMS)}"')]


class ScopeError(InsufficientScopeError):
    def get_headers(self):
        return super().get_headers() + [
            ("WWW-Authenticate", 'Bearer error="insufficient_scope", scope="openid"')]


class AccessTokenValidator(BearerTokenValidator):
    """Verify a JWT access token, then one select: its revocation state, grant and citizen
    (the client comes from the per-process cache)."""

    def authenticate_token(self, token_string):
        try:
            _, claims = tokens.verify(token_string, typ=tokens.ACCESS_TOKEN_TYP)
        except tokens.TokenError:
            return None
        state = grant_tokens.access_token_state(claims.get("jti", ""))
        if state is None:
            return None
        access, family, user = state
        client = client_cache.find(family.client_id)
        if not grant_tokens.token_is_live(access, family, user, client):
            return None
        return IssuedToken("access_token", family, client, user, access=access, claims=claims)

    def validate_token(self, token, scopes, request):
        if token is None:
            raise InvalidTokenError(realm=tokens.issuer())
        if self.scope_insufficient(token.get_scope(), scopes):
            raise ScopeError()


class DPoPTokenValidator(AccessTokenValidator):
    """``Authorization: DPoP <token>`` (RFC 9449 §7): the same token checks; the proof is
    checked by ``Protector.validate_request``, which holds the token string for ``ath``."""

    TOKEN_TYPE = "dpop"

    def validate_token(self, token, scopes, request):
        if token is None:
            raise dpop.ResourceChallenge("invalid_token", "The access token is not valid.")
        if self.scope_insufficient(token.get_scope(), scopes):
            raise dpop.ResourceChallenge("insufficient_scope", "The openid scope is needed.")


class Protector(ResourceProtector):
    """Bearer tokens in the header or a form body (RFC 6750 §2.2), and DPoP-bound tokens
    with their proof (RFC 9449 §7). A DPoP-bound token never works as a bearer token."""

    def parse_request_authorization(self, request):
        header = request.headers.get("Authorization")
        if not header:
            if flask_request.method == "POST" and flask_request.form.get("access_token") \
                    and flask_request.mimetype == "application/x-www-form-urlencoded":
                return self.get_token_validator("bearer"), flask_request.form["access_token"]
            raise MissingTokenError()
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "dpop" and value.strip():
            return self.get_token_validator("dpop"), value.strip()
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidTokenError(realm=tokens.issuer())
        return self.get_token_validator("bearer"), value.strip()

    def validate_request(self, scopes, request, **kwargs):
        validator, token_string = self.parse_request_authorization(request)
        token = validator.authenticate_token(token_string)
        validator.validate_token(token, scopes, request, **kwargs)
        bound = (token.claims.get("cnf") or {}).get("jkt")
        if validator.TOKEN_TYPE != "dpop":
            if bound:
                # RFC 9449 §7.2: a DPoP-bound token presented as a bearer token.
                raise dpop.ResourceChallenge("invalid_token",
                                             "A DPoP-bound token needs the DPoP scheme.")
            return token
        if not bound:
            raise dpop.ResourceChallenge("invalid_token", "The access token is not DPoP-bound.")
        try:
            proof = dpop.verify_proof(flask_request.headers.getlist(dpop.HEADER),
                                      method=flask_request.method,
                                      path=PATHS["userinfo_endpoint"],
                                      access_token=token_string)
        except dpop.ProofError as e:
            raise e.at_resource() from e
        if proof.jkt != bound:
            raise dpop.ResourceChallenge("invalid_dpop_proof",
                                         "The DPoP proof is made with another key.")
        return token


def make_protector() -> Protector:
    protector = Protector()
    protector.register_token_validator(AccessTokenValidator())
    protector.register_token_validator(DPoPTokenValidator())
    return protector


class UserInfoEndpoint(_UserInfoEndpoint):
    """Claims by scope (and by the ``claims`` request's ``userinfo`` member)."""

    def __call__(self, request):
        token = self.resource_protector.acquire_token("openid")
        client = token.get_client()
        names = claims_mod.released_names(set(token.get_scope().split()), token.family.claims,
                                          "userinfo")
        info = {"sub": claims_mod.subject(token.user, client),
                **claims_mod.user_claims(token.user, names)}
        return 200, info, default_json_headers

    def get_issuer(self):
        return tokens.issuer()


class EndSessionEndpoint(_EndSessionEndpoint):
    """RP-Initiated Logout 1.0 (``logout.rp_logout`` drives it); it ends this browser's
    SSO session, and ``session_ended`` does the rest (back-channel logout)."""

    def get_server_jwks(self):
        return tokens.keystore().verification_keys(now())

    def get_algorithms(self):
        return list(tokens.ALGORITHMS)

    def validate_request(self, request):
        validated = super().validate_request(request)
        if validated.id_token_claims is not None \
                and validated.id_token_claims.get("iss") != tokens.issuer():
            raise InvalidRequestError("id_token_hint was not issued here.")
        return validated

    def is_post_logout_redirect_uri_legitimate(self, request, post_logout_redirect_uri,
                                               client, logout_hint):
        # Without id_token_hint the citizen confirmed on our (CSRF-protected) page, and
        # the URI matched the client's registered list exactly.
        return bool(g.get("idp_logout_confirmed"))

    def end_session(self, end_session_request):
        logout_user("rp_logout")
