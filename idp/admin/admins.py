"""Who is an admin: granted and revoked from the command line only.

An admin signs in like every citizen, then passes a TOTP step
(``idp.accounts.steps.second_factor``, codes checked by ``idp.security.totp``).
"""

from __future__ import annotations

from sqlalchemy import select

from .. import audit
from ..accounts import session as sso
from ..errors import DomainError
from ..extensions import db
from ..models import SsoSession, User
from ..security import totp
from ..text import normalize_digits
from ..unit_of_work import transactional


def find_by_code(id_code: str) -> User:
    """Return the account of a national/FIDA code or raise ``user_not_found``."""
    user = db.session.scalar(select(User).where(User.id_code == normalize_digits(id_code)))
    if user is None:
        raise DomainError("user_not_found", field="id_code")
    return user


def _end_admin_sessions(user: User, reason: str) -> int:
    rows = list(db.session.scalars(select(SsoSession).where(
        SsoSession.user_id == user.id, SsoSession.is_admin.is_(True),
        SsoSession.ended_at.is_(None))))
    sso.end_sessions(rows, reason)
    return len(rows)


@transactional
def grant_admin(id_code: str, reset_totp: bool = False) -> User:
    """Make the account of ``id_code`` an admin.

    With ``reset_totp`` (a lost phone and lost recovery codes) its second factor is
    forgotten and its admin sessions end, so the next admin sign-in enrols again.
    """
    user = find_by_code(id_code)
    if not user.is_admin:
        user.is_admin = True
        audit.record("admin_granted", user_id=user.id)
    if reset_totp:
        totp.reset(user)
        audit.record("admin_totp_reset", user_id=user.id)
        _end_admin_sessions(user, "admin_totp_reset")
    return user


@transactional
def revoke_admin(id_code: str) -> User:
    """Take the admin role away and end the admin sessions. The authenticator app stays:
    it is the person's own second factor too (a citizen's level 2); ``grant-admin
    --reset-totp`` forgets it when the phone is lost."""
    user = find_by_code(id_code)
    was_admin = user.is_admin
    user.is_admin = False
    if was_admin:
        audit.record("admin_revoked", user_id=user.id)
    _end_admin_sessions(user, "admin_revoked")
    return user
