"""Authorization codes: stored as SHA-256 hashes, bound to the SSO session, used once.

Single use is enforced by a conditional ``UPDATE … WHERE used_at IS NULL``, never by a
read-then-write.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db, now
from ..models import AuthorizationCode, SessionClient
from ..security.hashing import sha256


def save_code(code: str, *, client_id: str, user_id: int, redirect_uri: str, scope: str,
              nonce: str | None, challenge: str | None, challenge_method: str | None,
              claims: dict | None, session, resources: list | None = None
              ) -> AuthorizationCode:
    """Store a new code (hashed) bound to the SSO session it was issued in; commit."""
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
    """Return the code row for a raw code (used or not), or ``None``."""
    return db.session.scalar(select(AuthorizationCode).where(
        AuthorizationCode.code_hash == sha256(code)))


def consume_code(row: AuthorizationCode) -> bool:
    """Mark a code used; ``False`` when another request used it first."""
    result = db.session.execute(
        update(AuthorizationCode).where(AuthorizationCode.id == row.id,
                                        AuthorizationCode.used_at.is_(None))
        .values(used_at=now()))
    return result.rowcount == 1


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
