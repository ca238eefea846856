"""The stored sign-in between two pages: a ``pending_authentications`` row.

The browser holds only a random key, kept in Flask's signed session (``session.stash``);
the row stores its SHA-256, the account, the steps done, ``amr``/``acr`` and where to
return. It lives ``PASSWORD_CHANGE_TTL`` seconds from the password step and is deleted
when the sign-in completes, so it can be used once.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from ... import settings
from ...extensions import db, now
from ...models import PendingAuthentication, User
from ...security.hashing import sha256
from ...unit_of_work import transactional
from .. import session
from .context import Context

STASH = "signin"


def _ttl() -> int:
    return settings.current().password_change_ttl


@transactional
def save(ctx: Context) -> None:
    """Store the sign-in of ``ctx`` (a new row and key on first use)."""
    moment = now()
    if ctx.record is None:
        purge_expired()
        raw = secrets.token_urlsafe(32)
        ctx.record = PendingAuthentication(
            key_hash=sha256(raw), user_id=ctx.user.id, created_at=moment,
            expires_at=moment + timedelta(seconds=_ttl()))
        db.session.add(ctx.record)
        session.stash(STASH, raw)
    record = ctx.record
    record.steps_done, record.amr = list(ctx.done), list(ctx.amr)
    record.acr, record.next_url = ctx.acr, ctx.next_url


def load(home: str) -> Context | None:
    """Return the live stored sign-in of this browser, or ``None``."""
    raw = session.unstash(STASH, _ttl())
    record = None
    if raw:
        record = db.session.scalar(select(PendingAuthentication).where(
            PendingAuthentication.key_hash == sha256(raw)))
    if record is None or record.expires_at <= now():
        session.forget(STASH)
        return None
    return Context(next_url=record.next_url, home=home, user=db.session.get(User, record.user_id),
                   amr=list(record.amr), acr=record.acr, done=list(record.steps_done),
                   record=record)


@transactional
def consume(ctx: Context) -> bool:
    """Delete the stored sign-in of ``ctx``; tell whether it was still there and live.

    A conditional DELETE, so of two requests racing to complete it only one wins.
    """
    session.forget(STASH)
    record, ctx.record = ctx.record, None
    if record is None:
        return True
    result = db.session.execute(delete(PendingAuthentication).where(
        PendingAuthentication.id == record.id, PendingAuthentication.expires_at > now()))
    return result.rowcount == 1


def purge_expired() -> int:
    """Delete every expired stored sign-in; return how many (in the caller's unit of work)."""
    return db.session.execute(delete(PendingAuthentication).where(
        PendingAuthentication.expires_at <= now())).rowcount
