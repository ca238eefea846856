"""The Authlib adapter over ``idp.grants``, and the provider's own protocol state.

Authlib's mixins wrap the records here (models never import Authlib): ``OAuthClient``
(over a cached client snapshot), ``CodeGrant`` and ``RefreshCredential``. What was
granted and issued, and how it is revoked, belongs to ``idp.grants``; the functions
below that revoke add the transaction an Authlib hook needs around it: the token
endpoint is one unit of work (``server``), and a revocation that must outlive the failed
request (a replayed code, a reused refresh token) is a failure record with its audit
event. Client assertion ``jti``s and parked authorization requests are the provider's own.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from .. import audit, settings
from ..clients import cache as client_cache
from ..clients.credentials import secret_matches
from ..extensions import db, now
from ..grants import revocation
from ..grants import tokens as grant_tokens
from ..grants.codes import FoundCode
from ..grants.records import Code, Grant, GrantUser, RefreshRecord
from ..models import PendingAuthorization, UsedJti
from ..security.hashing import sha256
from ..unit_of_work import failure_record, unit_of_work


# -- clients ---------------------------------------------------------------------------
class OAuthClient(ClientMixin):
    """A registered client as Authlib sees it: a wrapper over a ``ClientSnapshot`` (or a
    ``Client`` row: anything with its columns as attributes)."""

    def __init__(self, row):
        self.row = row

    def __getattr__(self, name):
        return getattr(self.row, name)

    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": list(self.row.post_logout_redirect_uris or [])}

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self):
        # OIDC Core §3.1.2.1: redirect_uri is required; there is no default.
        return None

    def get_allowed_scope(self, scope):
        """Return ``scope`` when the client may have every scope in it, else ``None``."""
        allowed = set(self.row.scope.split())
        if not scope:
            return " ".join(sorted(allowed - {"offline_access"}))
        requested = scope.split()
        return " ".join(dict.fromkeys(requested)) if set(requested) <= allowed else None

    def check_redirect_uri(self, redirect_uri) -> bool:
        # Exact string comparison (RFC 9700 §2.1), never prefix or pattern matching.
        return redirect_uri in (self.row.redirect_uris or ())

    def check_client_secret(self, client_secret) -> bool:
        # idp.clients owns the secret rules (keyed hash, rotation grace period).
        return secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint) -> bool:
        # One registered method for every endpoint; public clients may revoke with "none".
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type) -> bool:
        return response_type in (self.row.response_types or ()) \
            and "authorization_code" in (self.row.grant_types or ())

    def check_grant_type(self, grant_type) -> bool:
        return grant_type in (self.row.grant_types or ())

    @property
    def is_public(self) -> bool:
        return self.row.token_endpoint_auth_method == "none"


def find_client(client_id: str | None) -> OAuthClient | None:
    """Return an enabled client by id; a disabled client is as good as unknown.

    Read through the per-process client cache (``idp.clients.cache``).
    """
    if not client_id or not isinstance(client_id, str):
        return None
    snapshot = client_cache.find(client_id)
    return OAuthClient(snapshot) if snapshot is not None and snapshot.enabled else None


# -- authorization codes ---------------------------------------------------------------
class CodeGrant(AuthorizationCodeMixin):
    """An authorization code with its citizen, as Authlib's grant expects it."""

    def __init__(self, found: FoundCode):
        self.row: Code = found.code
        self.user: GrantUser = found.user
        self.session_ended = found.session_ended
        self.code_challenge = self.row.code_challenge
        self.code_challenge_method = self.row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope

    def get_nonce(self):
        return self.row.nonce

    def get_auth_time(self):
        return int(self.row.auth_time.timestamp())

    def get_acr(self):
        return self.row.acr

    def get_amr(self):
        return list(self.row.amr or [])


def revoke_code_grants(code: Code) -> int:
    """Revoke every token issued from a replayed code (RFC 6749 §4.1.2) and audit it.

    A failure record: it drops what the failing request wrote and commits only this.
    """
    with failure_record():
        count = revocation.revoke_for_code(code.id)
        audit.record("authorization_code_replayed", user_id=code.user_id,
                     client_id=code.client_id, revoked_grants=count)
    return count


# -- refresh tokens and grants --------------------------------------------------------
class RefreshCredential(TokenMixin):
    """A refresh token being exchanged, with its grant and citizen, for Authlib's grant.

    ``use_refresh`` made it: the token is already marked exchanged, in the request's
    unit of work.
    """

    def __init__(self, row: RefreshRecord, family: Grant, user: GrantUser | None):
        self.row, self.family, self.user = row, family, user

    def check_client(self, client) -> bool:
        return self.family.client_id == client.client_id

    def get_scope(self):
        return self.family.scope

    def get_expires_in(self):
        return int((self.row.expires_at - now()).total_seconds())

    def is_expired(self) -> bool:
        return self.row.expires_at <= now()

    def is_revoked(self) -> bool:
        return self.family.revoked_at is not None


def use_refresh(raw: str) -> RefreshCredential | None:
    """Exchange the refresh token ``raw``: mark it used and return it with its grant.

    ``None`` when it is unknown or was exchanged before; a rotated token presented again
    has leaked, so its whole grant ends (a failure record with a
    ``refresh_token_reused`` event).
    """
    row = grant_tokens.rotate_refresh(raw)
    if row is None:
        found = grant_tokens.find_refresh(raw)
        if found is not None and found[0].rotated_at is not None:
            revoke_reused_refresh(found[1].id)
        return None
    return RefreshCredential(row, *grant_tokens.grant_with_user(row.family_id))


def find_refresh(raw: str) -> RefreshCredential | None:
    """Return the refresh token ``raw`` with its grant, without exchanging it (the clients
    that keep their refresh token, ``fapi2.rotates_refresh_tokens``); ``None`` when it is
    unknown or was exchanged before."""
    found = grant_tokens.find_refresh(raw)
    if found is None or found[0].rotated_at is not None:
        return None
    return RefreshCredential(*found)


def revoke_reused_refresh(family_id: int) -> None:
    """End a grant whose refresh token came back after rotation; audit it.

    A failure record: it survives the refusal of the request that presented the token.
    """
    with failure_record():
        revocation.revoke_family(family_id, "refresh_token_reused")


def revoke_refresh_token(family_id: int) -> None:
    """Revoke a refresh token: its whole grant ends (RFC 7009 §2.1); audit it."""
    with unit_of_work():
        revocation.revoke_family(family_id, "refresh_token_revoked")


def revoke_access_token(jti: str) -> None:
    """Revoke one access token (RFC 7009 §2)."""
    with unit_of_work():
        revocation.revoke_access_token(jti)


# -- client assertions -----------------------------------------------------------------
def remember_jti(client_id: str, jti: str, expires_at: datetime) -> bool:
    """Record a client assertion's ``jti``; ``False`` if it was seen before (a replay).

    A failure record, committed at once: a replay is refused even when the request
    that first used the ``jti`` fails later.
    """
    try:
        with failure_record():
            db.session.add(UsedJti(client_id=client_id, jti=jti[:255], expires_at=expires_at))
        return True
    except IntegrityError:
        return False


# -- parked authorization requests -----------------------------------------------------
def park(client_id: str, params: dict) -> str:
    """Keep an authorization request server-side; return the random key for the browser."""
    key = secrets.token_urlsafe(24)
    moment = now()
    with unit_of_work():
        db.session.add(PendingAuthorization(
            key_hash=sha256(key), client_id=client_id, params=params, created_at=moment,
            expires_at=moment + timedelta(seconds=settings.current().oidc_auth_request_ttl)))
    return key


def load_pending(key: str | None) -> PendingAuthorization | None:
    if not key:
        return None
    return db.session.scalar(select(PendingAuthorization).where(
        PendingAuthorization.key_hash == sha256(key), PendingAuthorization.expires_at > now()))


def drop_pending(row: PendingAuthorization | None) -> None:
    if row is not None:
        with unit_of_work():
            db.session.execute(delete(PendingAuthorization)
                               .where(PendingAuthorization.id == row.id))
