"""All OpenID-provider database access: clients, codes, tokens, nonces, parked requests.

Bearer values are hashed before they are written: codes and refresh tokens as SHA-256,
access tokens recorded by their ``jti``. Single use is enforced by conditional
``UPDATE … WHERE used_at IS NULL`` statements, never by a read-then-write.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from authlib.oidc.core import AuthorizationCodeMixin
from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..clients.credentials import secret_matches
from ..extensions import db, now
from ..models import (
    AccessToken,
    AuthorizationCode,
    Client,
    PendingAuthorization,
    RefreshToken,
    SessionClient,
    SsoSession,
    TokenFamily,
    UsedJti,
    User,
)
from ..security.hashing import sha256


# -- clients ---------------------------------------------------------------------------
class OAuthClient(ClientMixin):
    """A registered client as Authlib sees it (a wrapper: models never import Authlib)."""

    def __init__(self, row: Client):
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
        return redirect_uri in (self.row.redirect_uris or [])

    def check_client_secret(self, client_secret) -> bool:
        # idp.clients owns the secret rules (keyed hash, rotation grace period).
        return secret_matches(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint) -> bool:
        # One registered method for every endpoint; public clients may revoke with "none".
        return method == self.row.token_endpoint_auth_method

    def check_response_type(self, response_type) -> bool:
        return response_type in (self.row.response_types or []) \
            and "authorization_code" in (self.row.grant_types or [])

    def check_grant_type(self, grant_type) -> bool:
        return grant_type in (self.row.grant_types or [])

    @property
    def is_public(self) -> bool:
        return self.row.token_endpoint_auth_method == "none"


def find_client(client_id: str | None) -> OAuthClient | None:
    """Return an enabled client by id; a disabled client is as good as unknown."""
    if not client_id or not isinstance(client_id, str):
        return None
    row = db.session.scalar(select(Client).where(Client.client_id == client_id,
                                                 Client.enabled.is_(True)))
    return OAuthClient(row) if row is not None else None


# -- authorization codes ---------------------------------------------------------------
class CodeGrant(AuthorizationCodeMixin):
    """An authorization code row as Authlib's grant expects it."""

    def __init__(self, row: AuthorizationCode):
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

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


def save_code(code: str, *, client_id: str, user_id: int, redirect_uri: str, scope: str,
              nonce: str | None, challenge: str | None, challenge_method: str | None,
              claims: dict | None, session, resources: list | None = None
              ) -> AuthorizationCode:
    """Store a new code (hashed) bound to the SSO session it was issued in."""
    moment = now()
    row = AuthorizationCode(
        code_hash=sha256(code), client_id=client_id, user_id=user_id,
        redirect_uri=redirect_uri, scope=scope, nonce=nonce, code_challenge=challenge,
        code_challenge_method=challenge_method, claims=claims, resources=resources or None,
        auth_time=session.auth_time,
        acr=session.acr, amr=list(session.amr or []), sid=session.sid, created_at=moment,
        expires_at=moment + timedelta(seconds=current_app.config["OIDC_CODE_TTL"]))
    db.session.add(row)
    record_session_client(session.id, client_id)
    db.session.commit()
    return row


def find_code(code: str) -> AuthorizationCode | None:
    return db.session.scalar(select(AuthorizationCode).where(
        AuthorizationCode.code_hash == sha256(code)))


def consume_code(row: AuthorizationCode) -> bool:
    """Mark a code used; ``False`` when another request used it first."""
    result = db.session.execute(
        update(AuthorizationCode).where(AuthorizationCode.id == row.id,
                                        AuthorizationCode.used_at.is_(None))
        .values(used_at=now()))
    return result.rowcount == 1


def revoke_code_grants(row: AuthorizationCode) -> int:
    """Revoke every token issued from a replayed code (RFC 6749 §4.1.2); commit."""
    db.session.rollback()
    count = db.session.execute(
        update(TokenFamily).where(TokenFamily.code_id == row.id,
                                  TokenFamily.revoked_at.is_(None)).values(revoked_at=now())
    ).rowcount
    audit.record("authorization_code_replayed", user_id=row.user_id, client_id=row.client_id,
                 revoked_grants=count)
    db.session.commit()
    return count


# -- token families, refresh and access tokens -----------------------------------------
def start_family(*, client_id: str, user_id: int | None, scope: str, code=None,
                 resources: list | None = None) -> TokenFamily:
    """Open a grant: everything issued from one code or one client-credentials call.

    ``resources`` are the RFC 8707 resource URIs a refresh may ask for again.
    """
    family = TokenFamily(client_id=client_id, user_id=user_id, scope=scope, created_at=now(),
                         resources=resources or None)
    if code is not None:
        family.code_id, family.claims, family.sid = code.id, code.claims, code.sid
        family.auth_time, family.acr, family.amr = code.auth_time, code.acr, list(code.amr or [])
    db.session.add(family)
    db.session.flush()
    return family


def record_tokens(family: TokenFamily, access_claims: dict, refresh_token: str | None,
                  refresh_ttl: int) -> None:
    """Record an issued access token by ``jti`` and a refresh token by its hash."""
    db.session.add(AccessToken(
        jti=access_claims["jti"], family_id=family.id, created_at=now(),
        expires_at=datetime.fromtimestamp(access_claims["exp"], now().tzinfo)))
    if refresh_token:
        db.session.add(RefreshToken(family_id=family.id, token_hash=sha256(refresh_token),
                                    created_at=now(),
                                    expires_at=now() + timedelta(seconds=refresh_ttl)))
    db.session.flush()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


class RefreshCredential(TokenMixin):
    """A refresh token row with its family, as Authlib's refresh grant expects it."""

    def __init__(self, row: RefreshToken, family: TokenFamily):
        self.row, self.family = row, family
        self.user = None  # set once the grant's owner is checked

    def check_client(self, client) -> bool:
        return self.family.client_id == client.client_id

    def get_scope(self):
        return self.family.scope

    def get_expires_in(self):
        return int((self.row.expires_at - now()).total_seconds())

    def is_expired(self) -> bool:
        return self.row.expires_at <= now()

    def is_revoked(self) -> bool:
        return self.family.revoked_at is not None or self.row.rotated_at is not None


def find_refresh(raw: str) -> RefreshCredential | None:
    found = db.session.execute(
        select(RefreshToken, TokenFamily)
        .join(TokenFamily, TokenFamily.id == RefreshToken.family_id)
        .where(RefreshToken.token_hash == sha256(raw))).first()
    return RefreshCredential(*found) if found else None


def rotate_refresh(credential: RefreshCredential) -> bool:
    """Mark a refresh token exchanged; ``False`` when another request exchanged it first."""
    return db.session.execute(
        update(RefreshToken).where(RefreshToken.id == credential.row.id,
                                   RefreshToken.rotated_at.is_(None)).values(rotated_at=now())
    ).rowcount == 1


def revoke_family(family_id: int, event: str | None = None, **fields) -> None:
    """Revoke a whole grant (its refresh and access tokens); audit ``event``; commit.

    Whatever the failed request had added to the session is dropped first: only the
    revocation (and its audit row) is written.
    """
    db.session.rollback()
    family = db.session.get(TokenFamily, family_id)
    db.session.execute(update(TokenFamily).where(
        TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None)).values(revoked_at=now()))
    if event and family is not None:
        audit.record(event, user_id=family.user_id, client_id=family.client_id, **fields)
    db.session.commit()


def revoke_session_grants(sids: list[str]) -> int:
    """End the grants issued inside SSO sessions that ended, except ``offline_access`` ones.

    A portal's refresh token lives as long as the citizen's sign-in; only a grant made
    for offline use outlives it. Commits; returns how many grants ended.
    """
    count = db.session.execute(
        update(TokenFamily).where(TokenFamily.sid.in_(sids), TokenFamily.revoked_at.is_(None),
                                  ~TokenFamily.scope.contains("offline_access"))
        .values(revoked_at=now())).rowcount
    db.session.commit()
    return count


def session_ended(sid: str | None) -> bool:
    """Tell whether the SSO session ``sid`` was ended (signed out, password changed…)."""
    return sid is not None and db.session.scalar(
        select(SsoSession.id).where(SsoSession.sid == sid, SsoSession.ended_at.is_not(None))
    ) is not None


def revoke_access_token(jti: str) -> None:
    db.session.execute(update(AccessToken).where(
        AccessToken.jti == jti, AccessToken.revoked_at.is_(None)).values(revoked_at=now()))
    db.session.commit()


def access_token_state(jti: str):
    """Return ``(AccessToken, TokenFamily, User | None, Client)`` in one query, or ``None``."""
    return db.session.execute(
        select(AccessToken, TokenFamily, User, Client)
        .join(TokenFamily, TokenFamily.id == AccessToken.family_id)
        .join(Client, Client.client_id == TokenFamily.client_id)
        .outerjoin(User, User.id == TokenFamily.user_id)
        .where(AccessToken.jti == jti)).first()


def token_is_live(access: AccessToken | None, family: TokenFamily, user: User | None,
                  client: Client) -> bool:
    """Tell whether tokens of this grant may still be used (nothing revoked or disabled)."""
    return (family.revoked_at is None and client.enabled
            and (access is None or (access.revoked_at is None and access.expires_at > now()))
            and (family.user_id is None or (user is not None and user.status == "active")))


def grant_owner(family: TokenFamily) -> tuple[User | None, Client]:
    return (db.session.get(User, family.user_id) if family.user_id else None,
            db.session.scalar(select(Client).where(Client.client_id == family.client_id)))


# -- SSO session ↔ clients, client assertions ------------------------------------------
def record_session_client(session_id: int, client_id: str) -> None:
    """Remember that a client got tokens in an SSO session (back-channel targets)."""
    exists = db.session.scalar(select(SessionClient.id).where(
        SessionClient.session_id == session_id, SessionClient.client_id == client_id))
    if exists is None:
        try:
            with db.session.begin_nested():
                db.session.add(SessionClient(session_id=session_id, client_id=client_id))
        except IntegrityError:
            pass  # a parallel request recorded it first


def remember_jti(client_id: str, jti: str, expires_at: datetime) -> bool:
    """Record a client assertion's ``jti``; ``False`` if it was seen before (a replay).

    Committed at once, so a replay is refused even when the first request fails later.
    """
    try:
        db.session.add(UsedJti(client_id=client_id, jti=jti[:255], expires_at=expires_at))
        db.session.commit()
        return True
    except IntegrityError:
        db.session.rollback()
        return False


# -- parked authorization requests -----------------------------------------------------
def park(client_id: str, params: dict) -> str:
    """Keep an authorization request server-side; return the random key for the browser."""
    key = secrets.token_urlsafe(24)
    moment = now()
    db.session.add(PendingAuthorization(
        key_hash=sha256(key), client_id=client_id, params=params, created_at=moment,
        expires_at=moment + timedelta(seconds=current_app.config["OIDC_AUTH_REQUEST_TTL"])))
    db.session.commit()
    return key


def load_pending(key: str | None) -> PendingAuthorization | None:
    if not key:
        return None
    return db.session.scalar(select(PendingAuthorization).where(
        PendingAuthorization.key_hash == sha256(key), PendingAuthorization.expires_at > now()))


def drop_pending(row: PendingAuthorization | None) -> None:
    if row is not None:
        db.session.execute(delete(PendingAuthorization).where(PendingAuthorization.id == row.id))
        db.session.commit()
