"""Grants (token families) and the tokens issued under them.

A family is everything issued from one authorization code or one client-credentials
call: its access tokens are recorded by ``jti``, its refresh tokens by SHA-256 hash.
A refresh token is rotated on every use by a conditional ``UPDATE … RETURNING``.

These run on every token, refresh, UserInfo and introspection request, so each is one
prebuilt SQLAlchemy Core statement over exactly the columns needed, returning the frozen
records of ``idp.grants.records`` (issue 12: on SQLite a Core select costs 28 µs, an ORM
load 85 µs). The caller's unit of work commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update

from ..extensions import db, now
from ..models import AccessToken, RefreshToken, TokenFamily, User
from ..security.hashing import sha256
from .records import AccessRecord, Grant, GrantUser, RefreshRecord, columns, take

_FAMILIES = TokenFamily.__table__
_REFRESH = RefreshToken.__table__
_ACCESS = AccessToken.__table__
_USERS = User.__table__

_GRANT = columns(_FAMILIES, Grant)
_USER = columns(_USERS, GrantUser)
_REFRESH_RECORD = columns(_REFRESH, RefreshRecord)
_ACCESS_RECORD = columns(_ACCESS, AccessRecord)
_N_REFRESH, _N_ACCESS, _N_GRANT = len(_REFRESH_RECORD), len(_ACCESS_RECORD), len(_GRANT)

_WITH_USER = _FAMILIES.outerjoin(_USERS, _USERS.c.id == _FAMILIES.c.user_id)
_SELECT_GRANT = select(*_GRANT, *_USER).select_from(_WITH_USER).where(
    _FAMILIES.c.id == bindparam("family_id"))
_SELECT_REFRESH = select(*_REFRESH_RECORD, *_GRANT, *_USER).select_from(
    _REFRESH.join(_WITH_USER, _FAMILIES.c.id == _REFRESH.c.family_id)).where(
    _REFRESH.c.token_hash == bindparam("token_hash"))
_SELECT_ACCESS = select(*_ACCESS_RECORD, *_GRANT, *_USER).select_from(
    _ACCESS.join(_WITH_USER, _FAMILIES.c.id == _ACCESS.c.family_id)).where(
    _ACCESS.c.jti == bindparam("jti"))
_ROTATE = (update(_REFRESH)
           .where(_REFRESH.c.token_hash == bindparam("presented_hash"),
                  _REFRESH.c.rotated_at.is_(None))
           .values(rotated_at=bindparam("moment"))
           .returning(*_REFRESH_RECORD))
_INSERT_FAMILY = insert(_FAMILIES)
_INSERT_ACCESS = insert(_ACCESS)
_INSERT_REFRESH = insert(_REFRESH)


def start_family(*, client_id: str, user_id: int | None, scope: str, code=None,
                 resources: list | None = None, dpop_jkt: str | None = None) -> Grant:
    """Open a grant: everything issued from one code (a ``Code`` record) or one
    client-credentials call.

    ``resources`` are the RFC 8707 resource URIs a refresh may ask for again;
    ``dpop_jkt`` the thumbprint of the DPoP key the grant is issued to (RFC 9449).
    """
    values = {"client_id": client_id, "user_id": user_id, "scope": scope, "claims": None,
              "resources": resources or None, "auth_time": None, "acr": None, "amr": [],
              "sid": None, "code_id": None, "dpop_jkt": dpop_jkt, "created_at": now()}
    if code is not None:
        values.update(code_id=code.id, claims=code.claims, sid=code.sid,
                      auth_time=code.auth_time, acr=code.acr, amr=list(code.amr or []))
    result = db.session.execute(_INSERT_FAMILY, values)
    return Grant(id=result.inserted_primary_key[0], client_id=client_id, user_id=user_id,
                 scope=scope, claims=values["claims"], resources=values["resources"],
                 auth_time=values["auth_time"], acr=values["acr"], amr=values["amr"],
                 sid=values["sid"], revoked_at=None, dpop_jkt=dpop_jkt)


def new_refresh_token() -> str:
    """Return a fresh opaque refresh token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def record_tokens(family: Grant, access_claims: dict, refresh_token: str | None,
                  refresh_ttl: int) -> None:
    """Record an issued access token by ``jti`` and a refresh token by its hash."""
    moment = now()
    db.session.execute(_INSERT_ACCESS, {
        "jti": access_claims["jti"], "family_id": family.id, "created_at": moment,
        "revoked_at": None, "expires_at": datetime.fromtimestamp(access_claims["exp"],
                                                                  moment.tzinfo)})
    if refresh_token:
        db.session.execute(_INSERT_REFRESH, {
            "family_id": family.id, "token_hash": sha256(refresh_token), "created_at": moment,
            "rotated_at": None, "expires_at": moment + timedelta(seconds=refresh_ttl)})


def rotate_refresh(raw: str) -> RefreshRecord | None:
    """Mark the refresh token ``raw`` exchanged and return it; ``None`` when it is unknown
    or was exchanged before (by another request too: the UPDATE is conditional).

    The exchange is part of the caller's unit of work: a refresh refused later (a wrong
    client, an ended grant) rolls it back.
    """
    row = db.session.execute(_ROTATE, {"presented_hash": sha256(raw), "moment": now()}).first()
    return RefreshRecord(*row) if row is not None else None


def grant_with_user(family_id: int) -> tuple[Grant, GrantUser | None]:
    """Return a grant with its citizen (``None`` for client credentials)."""
    row = db.session.execute(_SELECT_GRANT, {"family_id": family_id}).one()
    return take(Grant, row), take(GrantUser, row, _N_GRANT)


def find_refresh(raw: str) -> tuple[RefreshRecord, Grant, GrantUser | None] | None:
    """Return a refresh token (exchanged or not) with its grant and citizen, or ``None``."""
    row = db.session.execute(_SELECT_REFRESH, {"token_hash": sha256(raw)}).first()
    if row is None:
        return None
    return (take(RefreshRecord, row), take(Grant, row, _N_REFRESH),
            take(GrantUser, row, _N_REFRESH + _N_GRANT))


def access_token_state(jti: str) -> tuple[AccessRecord, Grant, GrantUser | None] | None:
    """Return an access token's record, grant and citizen in one select, or ``None``."""
    row = db.session.execute(_SELECT_ACCESS, {"jti": jti}).first()
    if row is None:
        return None
    return (take(AccessRecord, row), take(Grant, row, _N_ACCESS),
            take(GrantUser, row, _N_ACCESS + _N_GRANT))


def token_is_live(access: AccessRecord | None, family: Grant, user: GrantUser | None,
                  client) -> bool:
    """Tell whether tokens of this grant may still be used: nothing revoked or expired,
    the client (a snapshot, ``None`` once deleted) enabled, the citizen active."""
    return (family.revoked_at is None and client is not None and client.enabled
            and (access is None or (access.revoked_at is None and access.expires_at > now()))
            and (family.user_id is None or (user is not None and user.is_active)))
