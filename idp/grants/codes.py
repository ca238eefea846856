"""Authorization codes: stored as SHA-256 hashes, bound to the SSO session, used once.

Single use is enforced by a conditional ``UPDATE … WHERE used_at IS NULL``, never by a
read-then-write. The exchange reads a code, whether its sign-in ended and its citizen
in one Core select (``find_code``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import settings
from ..extensions import db, now
from ..models import AuthorizationCode, SessionClient, SsoSession, User
from ..security.hashing import sha256
from ..unit_of_work import unit_of_work
from .records import Code, GrantUser, columns, take

_CODES = AuthorizationCode.__table__
_USERS = User.__table__
_SESSIONS = SsoSession.__table__
_CODE = columns(_CODES, Code)
_FIND = (select(*_CODE, _SESSIONS.c.ended_at, *columns(_USERS, GrantUser))
         .select_from(_CODES.join(_USERS, _USERS.c.id == _CODES.c.user_id)
                      .outerjoin(_SESSIONS, _SESSIONS.c.sid == _CODES.c.sid))
         .where(_CODES.c.code_hash == bindparam("code_hash")))
_CONSUME = (update(_CODES).where(_CODES.c.id == bindparam("code_id"), _CODES.c.used_at.is_(None))
            .values(used_at=bindparam("moment")))


@dataclass(frozen=True, slots=True)
class FoundCode:
    """A code with its citizen, and whether the sign-in it was issued in has ended."""

    code: Code
    user: GrantUser
    session_ended: bool


def save_code(code: str, *, client_id: str, user_id: int, redirect_uri: str, scope: str,
              nonce: str | None, challenge: str | None, challenge_method: str | None,
              claims: dict | None, session, resources: list | None = None,
              dpop_jkt: str | None = None, ttl: int | None = None) -> AuthorizationCode:
    """Store a new code (hashed) bound to the SSO session it was issued in (and to the
    DPoP key ``dpop_jkt`` names, RFC 9449 §10).

    ``ttl``: its lifetime in seconds (default ``OIDC_CODE_TTL``).
    """
    moment = now()
    with unit_of_work():
        row = AuthorizationCode(
            code_hash=sha256(code), client_id=client_id, user_id=user_id,
            redirect_uri=redirect_uri, scope=scope, nonce=nonce, code_challenge=challenge,
            code_challenge_method=challenge_method, claims=claims,
            resources=resources or None, dpop_jkt=dpop_jkt, auth_time=session.auth_time,
            acr=session.acr,
            amr=list(session.amr or []), sid=session.sid, created_at=moment,
            expires_at=moment + timedelta(
                seconds=settings.current().oidc_code_ttl if ttl is None else ttl))
        db.session.add(row)
        record_session_client(session.id, client_id)
    return row


def find_code(code: str) -> FoundCode | None:
    """Return the code ``code`` (used or not) with its citizen and session state."""
    row = db.session.execute(_FIND, {"code_hash": sha256(code)}).first()
    if row is None:
        return None
    n = len(_CODE)
    return FoundCode(take(Code, row), take(GrantUser, row, n + 1), row[n] is not None)


def consume_code(code: Code) -> bool:
    """Mark a code used; ``False`` when another request used it first."""
    return db.session.execute(_CONSUME, {"code_id": code.id, "moment": now()}).rowcount == 1


#: ``INSERT … ON CONFLICT DO NOTHING`` by dialect (both speak it; Core has no generic form).
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def record_session_client(session_id: int, client_id: str) -> None:
    """Remember that a client got tokens in an SSO session (back-channel targets).

    One statement: the unique ``(session_id, client_id)`` pair makes a second code in the
    session, or a parallel request, a no-op instead of a read before the write.
    """
    insert = _INSERTS[db.session.get_bind().dialect.name]
    db.session.execute(insert(SessionClient.__table__)
                       .values(session_id=session_id, client_id=client_id)
                       .on_conflict_do_nothing(index_elements=["session_id", "client_id"]))
