"""The server-side single-sign-on session.

The browser holds only a random id in an ``HttpOnly; SameSite=Lax`` cookie (``__Host-``
prefixed and ``Secure`` when the issuer is https); the row stores its SHA-256. Idle
timeout and absolute lifetime come from settings. Ending a session sends the
``session_ended`` signal, to which the OIDC provider attaches back-channel logout.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from functools import wraps

from blinker import Namespace
from flask import current_app, has_request_context, redirect, request, url_for
from flask import session as flask_session
from sqlalchemy import select, update

from .. import settings
from ..extensions import db, now
from ..models import SsoSession, User
from ..security.hashing import sha256
from ..unit_of_work import transactional, unit_of_work
from . import assurance, notices

_signals = Namespace()
#: Sent with ``sessions=[SsoSession, …]`` after sessions end (sign-out, password reset…).
session_ended = _signals.signal("sso-session-ended")

_SEEN_GRANULARITY = 60  # seconds; last_seen_at is written at most this often


def _state() -> dict:
    """This request's SSO state: the session row and the cookie value to write.

    Kept in the WSGI environ rather than ``g``: an app context (and its ``g``) can
    outlive one request, and outside a request (commands) there is nothing to keep.
    """
    if not has_request_context():
        return {}
    return request.environ.setdefault("idp.sso", {})


def _idle_limit(row: SsoSession) -> int:
    cfg = settings.current()
    return cfg.admin_idle_timeout if row.is_admin else cfg.session_idle_timeout


def is_live(row: SsoSession, moment=None) -> bool:
    """Tell whether a session row is neither ended, past its lifetime nor idle too long."""
    moment = moment or now()
    return (row.ended_at is None and row.expires_at > moment
            and (moment - row.last_seen_at).total_seconds() <= _idle_limit(row))


@transactional
def login_user(user: User, amr: list[str]) -> SsoSession:
    """Sign ``user`` in on this browser; the response sets a new cookie.

    The session's ``acr`` is the assurance level its ``amr`` reaches
    (:func:`~idp.accounts.assurance.acr_of`).

    The cookie value is always new (no session fixation). When the browser's live
    session is already ``user``'s, this is a re-authentication (``prompt=login``,
    ``max_age``, or the password typed again): the session keeps its ``sid`` and the
    portals' grants, gets a new ``auth_time`` and adds ``amr`` to its methods. A session
    of another account is ended first (its portals get back-channel logout).
    """
    previous = current_session()
    if previous is not None and previous.user_id == user.id:
        return _reauthenticate(previous, user, amr)
    if previous is not None:
        end_sessions([previous], reason="replaced")
    raw = secrets.token_urlsafe(32)
    moment = now()
    row = SsoSession(
        id_hash=sha256(raw), sid=secrets.token_urlsafe(16), user_id=user.id, auth_time=moment,
        amr=list(amr), acr=assurance.acr_of(amr), ip=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:300], created_at=moment,
        last_seen_at=moment,
        expires_at=moment + timedelta(seconds=settings.current().session_max_age),
    )
    user.last_login_at = moment
    db.session.add(row)
    notices.new_sign_in(user)  # one SELECT, one INSERT; a notice for a new browser
    state = _state()
    state["session"] = row
    state["cookie"] = raw
    return row


def _reauthenticate(row: SsoSession, user: User, amr: list[str]) -> SsoSession:
    """Renew ``row`` after its citizen proved themselves again (OIDC Core §3.1.2.1:
    ``auth_time`` is the time of this authentication); the absolute lifetime stays.

    ``amr`` and ``acr`` become this authentication's: a second factor given earlier is not
    carried into a fresher ``auth_time`` (a portal asking ``max_age=0`` or
    ``prompt=login`` with level 2 gets the second factor asked again)."""
    raw = secrets.token_urlsafe(32)
    moment = now()
    row.id_hash = sha256(raw)
    row.auth_time = row.last_seen_at = user.last_login_at = moment
    row.amr = list(dict.fromkeys(amr))
    row.acr = assurance.acr_of(row.amr)
    row.ip = request.remote_addr
    state = _state()
    state["session"] = row
    state["cookie"] = raw
    return row


def current_session() -> SsoSession | None:
    """Return the live SSO session of this request, or ``None``.

    Expired or idle sessions count as absent. ``last_seen_at`` is refreshed at most
    once a minute so an active citizen is not signed out mid-way.
    """
    state = _state()
    if "session" in state:
        return state["session"]
    row = None
    raw = request.cookies.get(settings.current().sso_cookie_name)
    if raw:
        # The citizen comes in the same select; current_user() returns it from here.
        found = db.session.execute(
            select(SsoSession, User).join(User, User.id == SsoSession.user_id)
            .where(SsoSession.id_hash == sha256(raw), SsoSession.ended_at.is_(None))).first()
        row, state["user"] = found if found is not None else (None, None)
        moment = now()
        if row is not None and not is_live(row, moment):
            row = None
        elif row is not None and (moment - row.last_seen_at).total_seconds() > _SEEN_GRANULARITY:
            with unit_of_work():
                row.last_seen_at = moment
    state["session"] = row
    return row


def current_user() -> User | None:
    """Return the signed-in user of this request, or ``None``."""
    row = current_session()
    if row is None:
        return None
    user = _state().get("user")
    return user if user is not None and user.id == row.user_id \
        else db.session.get(User, row.user_id)


@transactional
def end_sessions(rows: list[SsoSession], reason: str) -> None:
    """End the given sessions and send ``session_ended`` (back-channel logout).

    The receivers (the end of the sessions' grants, the logout jobs) write in the same
    unit of work as the sessions' end.
    """
    live = [r for r in rows if r.ended_at is None]
    moment = now()
    for row in live:
        row.ended_at = moment
    state = _state()
    current = state.get("session")
    if current is not None and current in live:
        state["session"] = None
        state["cookie"] = ""
    if live:
        session_ended.send(current_app._get_current_object(), sessions=live, reason=reason)


@transactional
def logout_user(reason: str = "logout") -> SsoSession | None:
    """End this browser's SSO session (if any) and clear its cookie."""
    row = current_session()
    if row is not None:
        end_sessions([row], reason)
    _state()["cookie"] = ""
    return row


@transactional
def end_all_sessions(user_id: int, reason: str, keep_sid: str | None = None) -> int:
    """End every live session of a user (password change/reset); return how many."""
    rows = list(db.session.scalars(select(SsoSession).where(
        SsoSession.user_id == user_id, SsoSession.ended_at.is_(None),
        SsoSession.sid != (keep_sid or ""))))
    end_sessions(rows, reason)
    return len(rows)


@transactional
def raise_session(row: SsoSession, amr: list[str], admin: bool) -> None:
    """Record a step-up passed in the session ``row``: its new ``amr`` (merged), the
    ``acr`` they reach and, when the admin area asked for it, that it is now an admin
    session.

    ``auth_time`` stays the time of the sign-in that started the session: a step-up adds
    a factor to that authentication, and ``max_age`` keeps counting from the password.
    """
    merged = [*(row.amr or []), *(m for m in amr if m not in (row.amr or []))]
    values = {"amr": merged, "acr": assurance.acr_of(merged)} \
        | ({"is_admin": True} if admin else {})
    db.session.execute(update(SsoSession).where(SsoSession.id == row.id).values(**values))
    row.amr, row.acr = merged, values["acr"]


def login_required(view):
    """Send anonymous visitors to the sign-in page, then back here."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_session() is None:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def stash(name: str, value) -> None:
    """Keep a small, non-personal value (a user id, a random key) between two requests.

    It travels in Flask's signed session cookie with the time it was stored; never put
    a national code, mobile number or secret here.
    """
    flask_session[f"idp.{name}"] = {"value": value, "at": now().timestamp()}


def unstash(name: str, max_age: int, *, pop: bool = False):
    """Return a value kept by :func:`stash` if younger than ``max_age`` seconds, else ``None``."""
    key = f"idp.{name}"
    item = flask_session.pop(key, None) if pop else flask_session.get(key)
    if not isinstance(item, dict) or now().timestamp() - item.get("at", 0) > max_age:
        flask_session.pop(key, None)
        return None
    return item.get("value")


def forget(name: str) -> None:
    """Drop a value kept by :func:`stash`."""
    flask_session.pop(f"idp.{name}", None)


def _write_cookie(response):
    raw = _state().get("cookie")
    if raw is None:
        return response
    cfg = settings.current()
    name = cfg.sso_cookie_name
    if raw:
        response.set_cookie(name, raw, httponly=True, secure=cfg.https,
                            samesite="Lax", path="/", max_age=cfg.session_max_age)
    else:
        response.delete_cookie(name, path="/", secure=cfg.https,
                               httponly=True, samesite="Lax")
    return response


def init_app(app) -> None:
    app.after_request(_write_cookie)
