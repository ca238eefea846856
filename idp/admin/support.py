"""Citizen support: find an account, see its state, and act on it.

Support staff never see or set a password and never see a one-time code: the overview
holds no hash, no code and no session id. Every look-up and action is an audit event
with the admin's id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from .. import audit
from ..accounts import session as sso
from ..errors import DomainError
from ..extensions import db, now
from ..models import AuditEvent, Client, Consent, SsoSession, User
from ..text import normalize_digits
from ..unit_of_work import transactional

_CODE = re.compile(r"[0-9]{10}|[0-9]{12}", re.ASCII)
_MOBILE = re.compile(r"(?:\+98|0098|98|0)?(9[0-9]{9})", re.ASCII)
RECENT = 10


@dataclass
class Overview:
    """What support staff see of one account."""

    user: User
    active_sessions: list[SsoSession]
    recent_sign_ins: list[SsoSession]
    consents: list[tuple[Consent, str]]  # (consent, client name)
    events: list[AuditEvent]
    temporarily_locked: bool


@transactional
def search(query: str, actor_id: int, ip: str | None = None) -> list[User]:
    """Find accounts by exact national/FIDA code or mobile number (no browsing by prefix).

    :raises DomainError: ``search_query_invalid`` when the query is neither.
    """
    text = re.sub(r"[\s\-()]", "", normalize_digits(query))
    conditions, kinds = [], []
    if _CODE.fullmatch(text):
        conditions.append(User.id_code == text)
        kinds.append("id_code")
    mobile = _MOBILE.fullmatch(text)
    if mobile:  # "9121234567" may be a mobile without its 0 as well as a national code
        conditions.append(User.mobile == "0" + mobile[1])
        kinds.append("mobile")
    if not conditions:
        raise DomainError("search_query_invalid", field="q")
    users = db.session.scalars(select(User).where(or_(*conditions)).order_by(User.id)).all()
    audit.record("support_search", actor_id=actor_id, ip=ip, by=kinds,
                 found=[u.id for u in users])
    return list(users)


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise DomainError("user_not_found")
    return user


@transactional
def overview(user_id: int, actor_id: int, ip: str | None = None) -> Overview:
    """Return what support may see of an account; the viewing is audited."""
    user = get_user(user_id)
    sessions = select(SsoSession).where(SsoSession.user_id == user.id)
    active = [row for row in db.session.scalars(sessions.where(SsoSession.ended_at.is_(None))
                                                .order_by(SsoSession.last_seen_at.desc()))
              if sso.is_live(row)]
    recent = list(db.session.scalars(sessions.order_by(SsoSession.created_at.desc())
                                     .limit(RECENT)))
    consents = list(db.session.execute(
        select(Consent, Client.name_fa).join(Client, Client.client_id == Consent.client_id)
        .where(Consent.user_id == user.id, Consent.revoked_at.is_(None))
        .order_by(Consent.granted_at.desc())))
    events = list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.user_id == user.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(2 * RECENT)))
    audit.record("support_user_viewed", user_id=user.id, actor_id=actor_id, ip=ip)
    return Overview(user=user, active_sessions=active, recent_sign_ins=recent,
                    consents=consents, events=events,
                    temporarily_locked=bool(user.locked_until and user.locked_until > now()))


def _target(user_id: int, actor_id: int) -> User:
    user = get_user(user_id)
    if user.id == actor_id:
        raise DomainError("cannot_act_on_self")
    return user


@transactional
def lock(user_id: int, actor_id: int, ip: str | None = None) -> User:
    """Lock an account until an admin unlocks it, and end its sessions."""
    user = _target(user_id, actor_id)
    if user.status not in {"active", "locked"}:
        raise DomainError("user_status_not_lockable")
    user.status = "locked"
    audit.record("support_locked", user_id=user.id, actor_id=actor_id, ip=ip)
    sso.end_all_sessions(user.id, reason="locked_by_admin")
    return user


@transactional
def unlock(user_id: int, actor_id: int, ip: str | None = None) -> User:
    """Lift an admin lock and any lockout from wrong passwords."""
    user = _target(user_id, actor_id)
    if user.status not in {"active", "locked"}:
        raise DomainError("user_status_not_lockable")
    user.status = "active"
    user.locked_until = None
    user.failed_logins = 0
    audit.record("support_unlocked", user_id=user.id, actor_id=actor_id, ip=ip)
    return user


@transactional
def force_password_change(user_id: int, actor_id: int, ip: str | None = None) -> User:
    """Make the citizen choose a new password at the next sign-in."""
    user = _target(user_id, actor_id)
    user.must_change_password = True
    audit.record("support_forced_password_change", user_id=user.id, actor_id=actor_id, ip=ip)
    return user


@transactional
def sign_out_everywhere(user_id: int, actor_id: int, ip: str | None = None) -> int:
    """End every live session of the account (portals get back-channel logout)."""
    user = _target(user_id, actor_id)
    audit.record("support_signed_out", user_id=user.id, actor_id=actor_id, ip=ip)
    return sso.end_all_sessions(user.id, reason="admin")


def counts() -> dict:
    """Numbers for the admin home page."""
    moment = now()
    return {
        "clients": db.session.scalar(select(func.count(Client.id))),
        "disabled_clients": db.session.scalar(select(func.count(Client.id))
                                              .where(Client.enabled.is_(False))),
        "users": db.session.scalar(select(func.count(User.id))),
        "locked_users": db.session.scalar(select(func.count(User.id))
                                          .where(User.status == "locked")),
        "live_sessions": db.session.scalar(select(func.count(SsoSession.id)).where(
            SsoSession.ended_at.is_(None), SsoSession.expires_at > moment)),
    }
