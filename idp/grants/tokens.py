"""Grants (token families) and the tokens issued under them.

A family is everything issued from one authorization code or one client-credentials
call: its access tokens are recorded by ``jti``, its refresh tokens by SHA-256 hash.
A refresh token is rotated on every use by a conditional UPDATE.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ..extensions import db, now
from ..models import (
    AccessToken,
    AuthorizationCode,
    Client,
    RefreshToken,
    SsoSession,
    TokenFamily,
    User,
)
from ..security.hashing import sha256


def start_family(*, client_id: str, user_id: int | None, scope: str,
                 code: AuthorizationCode | None = None,
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


def session_ended(sid: str | None) -> bool:
    """Tell whether the SSO session ``sid`` was ended (signed out, password changed…)."""
    return sid is not None and db.session.scalar(
        select(SsoSession.id).where(SsoSession.sid == sid, SsoSession.ended_at.is_not(None))
    ) is not None


def new_refresh_token() -> str:
    """Return a fresh opaque refresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


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


def find_refresh(raw: str) -> tuple[RefreshToken, TokenFamily] | None:
    """Return a refresh token row with its family, or ``None``."""
    found = db.session.execute(
        select(RefreshToken, TokenFamily)
        .join(TokenFamily, TokenFamily.id == RefreshToken.family_id)
        .where(RefreshToken.token_hash == sha256(raw))).first()
    return tuple(found) if found else None


def rotate_refresh(row: RefreshToken) -> bool:
    """Mark a refresh token exchanged; ``False`` when another request exchanged it first."""
    return db.session.execute(
        update(RefreshToken).where(RefreshToken.id == row.id,
                                   RefreshToken.rotated_at.is_(None)).values(rotated_at=now())
    ).rowcount == 1


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
    """Return the user (``None`` for client credentials) and the client of a grant."""
    return (db.session.get(User, family.user_id) if family.user_id else None,
            db.session.scalar(select(Client).where(Client.client_id == family.client_id)))
