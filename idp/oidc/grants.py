"""Authlib grant and extension subclasses: their hooks call ``idp.grants`` (through the
``storage`` wrappers where Authlib expects its mixins) and ``tokens``.

Authlib's hook names change between minor versions (1.7 → 1.9 removed
``get_jwt_config``); that churn is kept in this module.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    grants,
)
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode as _OpenIDCode
from authlib.oidc.core.grants.util import is_openid_scope
from authlib.oidc.core.util import create_half_hash
from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .. import settings
from ..clients.keys import check_jwks
from ..errors import DomainError
from ..extensions import now
from ..grants import codes
from ..grants import tokens as grant_tokens
from . import claims as claims_mod
from . import dpop, fapi2, resources, storage, tokens
from .metadata import ASSERTION_ALGORITHMS, PATHS
from .outbound import OutboundError, http

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
SECRET_METHODS = AUTH_METHODS[:3]
ASSERTION_MAX_LIFETIME = 3600  # seconds; longer-lived client assertions are refused


# -- ID tokens -------------------------------------------------------------------------
def build_id_token(*, client, user, scope: str, auth_time: datetime, acr: str | None,
                   amr: list, sid: str | None, claims_request: dict | None,
                   nonce: str | None = None, access_token: str | None = None) -> str:
    """Sign an ID token (OIDC Core §2) for ``user`` as ``client`` sees them.

    Profile claims go to UserInfo; the ID token carries only the claims the ``claims``
    parameter asked for under ``id_token``.
    """
    alg = client.id_token_signed_response_alg or "RS256"
    issued = tokens.timestamp()
    body = {"iss": tokens.issuer(), "sub": claims_mod.subject(user, client),
            "aud": client.client_id,
            "iat": issued, "exp": issued + settings.current().oidc_id_token_ttl,
            "auth_time": int(auth_time.timestamp()),
            "acr": claims_mod.acr_for(acr, amr, claims_request), "amr": list(amr or [])}
    if nonce:
        body["nonce"] = nonce
    if sid:
        body["sid"] = sid
    if access_token:
        body["at_hash"] = create_half_hash(access_token, alg).decode()
    names = claims_mod.released_names(set(scope.split()), claims_request, "id_token")
    body.update(claims_mod.user_claims(user, names))
    return tokens.sign(body, alg)


class OpenIDCode(_OpenIDCode):
    """ID tokens for the code grant (``request.user`` is the code's ``GrantUser``).

    Prompts are decided by ``authorize`` instead of Authlib's hook. A repeated
    ``nonce`` is not refused: detecting a replayed ID token is the RP's check (OIDC
    Core §15.5.2), codes are single use and PKCE-bound, and refusing would break a
    citizen's back-button retry of the same sign-in link.
    """

    def encode_id_token(self, token, request):
        code = request.authorization_code.row
        return build_id_token(client=request.client, user=request.user, scope=token["scope"],
                              auth_time=code.auth_time, acr=code.acr, amr=code.amr, sid=code.sid,
                              claims_request=code.claims, nonce=code.nonce,
                              access_token=token.get("access_token"))

    def __call__(self, grant):
        grant.register_hook("after_create_token_response", self.process_token)


class RefreshIdToken:
    """OIDC Core §12.2: a refresh also returns a fresh ID token (original auth_time)."""

    def __call__(self, grant):
        grant.register_hook("after_create_token_response", self.process_token)

    def process_token(self, grant, response):
        _, token, _ = response
        if is_openid_scope(token.get("scope")):
            family = grant.request.refresh_token.family
            token["id_token"] = build_id_token(
                client=grant.request.client, user=grant.request.user, scope=token["scope"],
                auth_time=family.auth_time, acr=family.acr, amr=family.amr, sid=family.sid,
                claims_request=family.claims, access_token=token.get("access_token"))
        return token


# -- PKCE ------------------------------------------------------------------------------
class PKCE(CodeChallenge):
    """RFC 7636 with S256 only; public clients must use it (RFC 9700 §2.1.1)."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if not challenge and fapi2.requires_pkce(grant.request.client):
            raise InvalidRequestError(
                "Public and FAPI 2.0 clients must send a S256 code_challenge (PKCE).")
        if challenge and method != "S256":
            # RFC 7636 §4.3: a missing method means "plain", which is refused.
            raise InvalidRequestError("code_challenge_method must be S256; plain is refused.")
        super().validate_code_challenge(grant, redirect_uri)


# -- grants ----------------------------------------------------------------------------
class ResourceIndicators:
    """RFC 8707 at the token endpoint: ``validate_token_request`` sets
    ``request.resources``, and the access token's ``aud`` names them."""

    def requested_resources(self) -> list[str]:
        return resources.requested(self.request.payload.datalist.get("resource"))

    def generate_token(self, user=None, scope=None, grant_type=None, expires_in=None,
                       include_refresh_token=True):
        proof = getattr(self.request, "dpop_proof", None)
        return tokens.generate_token(grant_type or self.GRANT_TYPE, self.request.client,
                                     user=user, scope=scope, expires_in=expires_in,
                                     include_refresh_token=include_refresh_token,
                                     resources=getattr(self.request, "resources", None),
                                     jkt=proof.jkt if proof else None)

    def proof_jkt(self) -> str | None:
        """The DPoP key of this token request (RFC 9449 §5), after the client's policy:
        a client registered with ``dpop_bound_access_tokens`` must send a proof.

        :raises InvalidDPoPProofError: when the client requires DPoP and sent no proof.
        """
        proof = getattr(self.request, "dpop_proof", None)
        if proof is None and dpop.dpop_required(self.request.client):
            raise dpop.InvalidDPoPProofError(description="This client must send a DPoP proof.")
        return proof.jkt if proof else None


class AuthorizationCodeGrant(ResourceIndicators, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code, request):
        data = request.payload.data
        challenge = data.get("code_challenge")
        codes.save_code(
            code, client_id=request.client.client_id, user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri,
            scope=getattr(request, "granted_scope", None) or request.scope,
            nonce=data.get("nonce"), challenge=challenge,
            challenge_method="S256" if challenge else None,
            claims=request.claims_request, session=request.sso_session,
            resources=getattr(request, "resources", None), dpop_jkt=data.get("dpop_jkt"),
            ttl=fapi2.code_ttl(request.client, settings.current().oidc_code_ttl))

    def validate_token_request(self):
        super().validate_token_request()
        # Before the code is used: a refused resource or proof leaves the code for a
        # corrected retry.
        row = self.request.authorization_code.row
        jkt = self.proof_jkt()
        if row.dpop_jkt and row.dpop_jkt != jkt:
            # RFC 9449 §10: the code is bound to the key dpop_jkt named at /authorize.
            raise InvalidGrantError("The DPoP proof's key is not the one the code is bound to.")
        self.request.resources = resources.narrow(self.requested_resources(), row.resources)

    def query_authorization_code(self, code, client):
        # One select: the code, whether its sign-in ended, and its citizen.
        found = codes.find_code(code)
        if found is None:
            return None
        row = found.code
        if row.used_at is not None:
            # RFC 6749 §4.1.2: a second use is refused and what the first use issued dies.
            storage.revoke_code_grants(row)
            return None
        if row.client_id != client.client_id or row.expires_at <= now():
            return None
        return storage.CodeGrant(found)

    def authenticate_user(self, authorization_code):
        row = authorization_code.row
        if "offline_access" not in row.scope.split() and authorization_code.session_ended:
            # The sign-in ended before the exchange (its grants were revoked and logout
            # tokens sent then): a grant made now would outlive it.
            return None
        if not authorization_code.user.is_active:
            return None  # a blocked citizen's codes answer invalid_grant
        if not codes.consume_code(row):
            storage.revoke_code_grants(row)
            raise InvalidGrantError("The authorization code was already used.")
        proof = self.request.dpop_proof
        self.request.family = grant_tokens.start_family(
            client_id=self.request.client.client_id, user_id=row.user_id, scope=row.scope,
            code=row, resources=row.resources or self.request.resources,
            dpop_jkt=proof.jkt if proof else None)
        return authorization_code.user

    def delete_authorization_code(self, authorization_code):
        """Keep the used code: its row is how a replay is recognised until it is purged."""


class RefreshTokenGrant(ResourceIndicators, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation on every use

    def validate_token_request(self):
        super().validate_token_request()
        family = self.request.refresh_token.family
        jkt = self.proof_jkt()
        if family.dpop_jkt and (jkt is None or (
                self.request.client.is_public and jkt != family.dpop_jkt)):
            # RFC 9449 §5: a public client's refresh token is bound to its DPoP key. A
            # confidential client authenticates, so it may change keys, but a grant begun
            # with DPoP never falls back to bearer tokens. (Refused here: the rotation
            # rolls back with the request.)
            raise InvalidGrantError("The refresh token is bound to a DPoP key; "
                                    "send a proof made with it.")
        # RFC 8707 §2.2: a refresh may narrow the audience, never widen the grant.
        granted = family.resources
        self.request.resources = resources.narrow(self.requested_resources(), granted,
                                                  widen=False)

    def authenticate_refresh_token(self, refresh_token):
        # Rotated here, by the conditional UPDATE that finds it: a token exchanged before
        # (here or by a racing request) ends its grant. A refusal further on rolls the
        # rotation back with the rest of the request's unit of work. FAPI 2.0 clients
        # keep their refresh token (fapi2.rotates_refresh_tokens).
        if fapi2.rotates_refresh_tokens(self.request.client):
            credential = storage.use_refresh(refresh_token)
        else:
            credential = storage.find_refresh(refresh_token)
        if credential is None or credential.is_revoked() or credential.is_expired():
            return None
        if credential.user is None or not credential.user.is_active:
            return None  # a blocked citizen's grants answer invalid_grant
        return credential

    def authenticate_user(self, refresh_token):
        self.request.family = refresh_token.family
        return refresh_token.user

    def generate_token(self, user=None, scope=None, grant_type=None, expires_in=None,
                       include_refresh_token=True):
        include_refresh_token = include_refresh_token \
            and fapi2.rotates_refresh_tokens(self.request.client)
        return super().generate_token(user=user, scope=scope, grant_type=grant_type,
                                      expires_in=expires_in,
                                      include_refresh_token=include_refresh_token)

    def revoke_old_credential(self, refresh_token):
        """Nothing left to do: ``authenticate_refresh_token`` rotated it."""


class ClientCredentialsGrant(ResourceIndicators, grants.ClientCredentialsGrant):
    """Machine-to-machine tokens: no user, no ID token, no refresh token."""

    TOKEN_ENDPOINT_AUTH_METHODS = SECRET_METHODS
    NO_USER_SCOPES = {"openid", "offline_access"}

    def validate_token_request(self):
        super().validate_token_request()
        allowed = set(self.request.client.scope.split()) - self.NO_USER_SCOPES
        requested = self.request.payload.scope
        if requested:
            wanted = set(requested.split()) - self.NO_USER_SCOPES
            if not wanted <= allowed:
                raise InvalidScopeError()
        else:
            wanted = allowed
        self.request.scope = " ".join(sorted(wanted))
        self.request.resources = resources.narrow(self.requested_resources(), None)
        self.request.dpop_jkt = self.proof_jkt()

    def create_token_response(self):
        self.request.family = grant_tokens.start_family(
            client_id=self.request.client.client_id, user_id=None, scope=self.request.scope,
            resources=self.request.resources, dpop_jkt=self.request.dpop_jkt)
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


# -- private_key_jwt -------------------------------------------------------------------
class PrivateKeyJwt(JWTBearerClientAssertion):
    """RFC 7523 §2.2 client assertions signed with the client's registered key."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self):
        issuer = tokens.issuer()
        paths = ("token_endpoint", "revocation_endpoint", "introspection_endpoint",
                 "pushed_authorization_request_endpoint")  # RFC 9126 §2
        return [issuer] + [issuer + PATHS[p] for p in paths]

    def verify_claims(self, claims):
        # Authlib's version reads time.time(); ours uses the clock port.
        registry = jwt.JWTClaimsRegistry(
            now=lambda: tokens.timestamp(), leeway=self.leeway,
            iss={"essential": True}, sub={"essential": True}, exp={"essential": True},
            aud={"essential": True, "values": self.get_audiences()})
        try:
            registry.validate(claims)
        except JoseError as e:
            raise _invalid_client(e.description) from e
        if claims["sub"] != claims["iss"]:
            raise _invalid_client("Issuer and Subject MUST match.")
        if claims["exp"] > tokens.timestamp() + ASSERTION_MAX_LIFETIME:
            raise _invalid_client("The assertion lives too long.")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise _invalid_client("Missing JWT ID.")
        if not self.validate_jti(claims, claims["jti"]):
            raise _invalid_client("JWT ID is used before.")

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGORITHMS))
        except JoseError as e:
            raise _invalid_client(e.description) from e
        # Before verify_claims, which spends the jti: a refused assertion keeps it unused.
        problem = fapi2.assertion_problem(storage.find_client(token.claims.get("sub")),
                                          token.header, token.claims, tokens.issuer())
        if problem:
            raise _invalid_client(problem)
        self.verify_claims(token.claims)
        return token.claims

    def validate_jti(self, claims, jti):
        expires = datetime.fromtimestamp(claims["exp"] + self.leeway, UTC)
        return storage.remember_jti(claims["sub"], jti, expires)

    def resolve_client_public_key(self, client):
        return client_keys(client)


def _invalid_client(description: str) -> InvalidClientError:
    return InvalidClientError(description=description)


_JWKS_CACHE_SECONDS = 300


def _import_keys(jwks: object) -> KeySet:
    """Import a client's key set after the registration rule (public asymmetric keys only):
    a stored or fetched ``oct`` key must never verify an HMAC-signed assertion."""
    check_jwks(jwks)
    return KeySet.import_key_set(jwks)


def client_keys(client) -> KeySet:
    """Return a client's public keys: registered ``jwks``, or its ``jwks_uri`` (cached).

    :raises InvalidClientError: when the keys cannot be read.
    """
    try:
        if client.jwks:
            return _import_keys(client.jwks)
        if not client.jwks_uri:
            raise ValueError("no keys registered")
        cache = current_app.extensions.setdefault("idp.client_jwks", {})
        cached = cache.get(client.jwks_uri)
        if cached is None or cached[0] < time.monotonic():
            cached = (time.monotonic() + _JWKS_CACHE_SECONDS,
                      _import_keys(http().get_json(client.jwks_uri, 5.0)))
            cache[client.jwks_uri] = cached
        return cached[1]
    except (OutboundError, JoseError, DomainError, ValueError, TypeError) as e:
        raise _invalid_client("The client keys cannot be read.") from e
