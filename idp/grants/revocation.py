"""Revocation: the one place where grants and tokens end.

One rule throughout: revoking a grant (a token family) ends its refresh tokens, which
are checked through the family, and marks each of its access tokens revoked. Every
function revokes only what is still live, returns how many grants it ended and leaves
the commit to the caller, so a revocation commits together with the change that caused
it (a new password, a withdrawn consent, an ended session).
"""

from __future__ import annotations

from sqlalchemy import select, update

from .. import audit
from ..extensions import db, now
from ..models import AccessToken, TokenFamily


def _revoke(*conditions) -> int:
    """End the live grants matching ``conditions`` with their access tokens."""
    moment = now()
    live = (TokenFamily.revoked_at.is_(None), *conditions)
    # Access tokens first: once their families are revoked, the subquery finds none.
    db.session.execute(update(AccessToken).where(
        AccessToken.revoked_at.is_(None),
        AccessToken.family_id.in_(select(TokenFamily.id).where(*live)),
    ).values(revoked_at=moment))
    return db.session.execute(update(TokenFamily).where(*live).values(revoked_at=moment)).rowcount


def revoke_family(family_id: int, event: str | None = None, **fields) -> int:
    """End one grant with its refresh and access tokens; record ``event`` if given.

    Used when a refresh token is revoked (RFC 7009 §2.1) or comes back after rotation.
    """
    count = _revoke(TokenFamily.id == family_id)
    family = db.session.get(TokenFamily, family_id)
    if event and family is not None:
        audit.record(event, user_id=family.user_id, client_id=family.client_id, **fields)
    return count


def revoke_for_code(code_id: int) -> int:
    """End the grants issued from an authorization code (a replayed code, RFC 6749 §4.1.2)."""
    return _revoke(TokenFamily.code_id == code_id)


def revoke_for_user(user_id: int, keep_sid: str | None = None) -> int:
    """End every grant of a user, ``offline_access`` ones included.

    Grants issued inside the SSO session ``keep_sid`` are kept: a password change keeps
    the citizen's own browser signed in.
    """
    conditions = [TokenFamily.user_id == user_id]
    if keep_sid:
        conditions.append((TokenFamily.sid != keep_sid) | TokenFamily.sid.is_(None))
    return _revoke(*conditions)


def revoke_for_client(client_id: str, user_id: int | None = None) -> int:
    """End every grant of a client, or only those of ``user_id`` (a withdrawn consent)."""
    conditions = [TokenFamily.client_id == client_id]
    if user_id is not None:
        conditions.append(TokenFamily.user_id == user_id)
    return _revoke(*conditions)


def revoke_for_session(sids: list[str]) -> int:
    """End the grants issued inside SSO sessions that ended, except ``offline_access`` ones.

    A portal's refresh token lives as long as the citizen's sign-in; only a grant made
    for offline use outlives it.
    """
    if not sids:
        return 0
    return _revoke(TokenFamily.sid.in_(sids),
                   ~TokenFamily.scope.contains("offline_access"))


def revoke_access_token(jti: str) -> bool:
    """Revoke one access token (RFC 7009); its grant and refresh token live on."""
    return db.session.execute(update(AccessToken).where(
        AccessToken.jti == jti, AccessToken.revoked_at.is_(None)).values(revoked_at=now())
    ).rowcount == 1
