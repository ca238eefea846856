"""The citizen's own SSO sessions as the account page lists and ends them."""

from __future__ import annotations

from sqlalchemy import select

from .. import audit
from ..extensions import db, now
from ..models import SsoSession
from ..unit_of_work import transactional
from . import session


def list_sessions(user_id: int) -> list[SsoSession]:
    """Return the user's live SSO sessions (not ended, expired or idle), newest use first."""
    moment = now()
    rows = db.session.scalars(select(SsoSession).where(
        SsoSession.user_id == user_id, SsoSession.ended_at.is_(None),
        SsoSession.expires_at > moment,
    ).order_by(SsoSession.last_seen_at.desc(), SsoSession.id.desc()))
    return [row for row in rows if session.is_live(row, moment)]


@transactional
def end_session(user_id: int, sid: str, ip: str | None = None) -> bool:
    """End one of the user's own sessions (by its public ``sid``); return whether it was live.

    Back-channel logout follows through ``session_ended``. Ending the current session
    also clears this browser's cookie.
    """
    row = db.session.scalar(select(SsoSession).where(
        SsoSession.user_id == user_id, SsoSession.sid == sid, SsoSession.ended_at.is_(None)))
    if row is None:
        return False
    audit.record("session_ended_by_user", user_id=user_id, ip=ip, sid=sid)
    session.end_sessions([row], reason="ended_by_user")
    return True
