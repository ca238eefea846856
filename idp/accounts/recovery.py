"""Password recovery by SMS code (فراموشی گذرواژه), three steps as in the user guide
(docs/FLOWS.md, "Password recovery").

1. ``start``: a national/FIDA code. Every well-formed code gets a request row and the
   same answer ("if an account exists, a code was sent to its mobile"), so nobody can
   probe which codes are registered. Only an active account's mobile gets an SMS (and its
   verified email address a copy of the code, a second channel that changes no answer).
2. ``verify``: the 6-digit code, with the limits of every SMS code (``OTP_TTL``,
   ``OTP_MAX_ATTEMPTS``, ``OTP_RESEND_AFTER``, ``OTP_HOURLY_LIMIT``). A request without an
   account, or whose code could not be sent (the mobile's hourly cap, the gateway down),
   gets a phantom challenge (:func:`otp.issue_phantom`) that no code matches and that goes
   through the same ``otp.verify_code``, so its answers are a real one's.
3. ``finish``: the new password under the password rules; every SSO session and refresh
   token of the account is revoked and an SMS notice is sent.

The send limits are also applied per typed code (a keyed hash), identically for codes
with and without an account; the SMS module applies its own per-mobile limits behind them.
"""

from __future__ import annotations

import logging
import math
import secrets
from datetime import timedelta

from sqlalchemy import func, select

from .. import audit, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import RecoveryRequest, User
from ..security import otp
from ..security.hashing import keyed_hash, sha256
from ..unit_of_work import failure_record, transactional
from . import profile, signin

logger = logging.getLogger("idp.accounts")
PURPOSE = "recovery"


def _check_send_limits(code_hash: str, last_sent=None) -> None:
    """Apply the resend delay and the hourly cap to a typed code.

    :raises DomainError: ``otp_resend_too_soon`` (with ``seconds``) or ``otp_hourly_limit``.
    """
    cfg, moment = settings.current(), now()
    if last_sent is None:
        last_sent = db.session.scalar(select(func.max(RecoveryRequest.sent_at)).where(
            RecoveryRequest.code_hash == code_hash))
    if last_sent is not None:
        wait = (last_sent + timedelta(seconds=cfg.otp_resend_after) - moment).total_seconds()
        if wait > 0:
            raise DomainError("otp_resend_too_soon", seconds=math.ceil(wait))
    sent = db.session.scalar(select(func.coalesce(func.sum(RecoveryRequest.sends), 0)).where(
        RecoveryRequest.code_hash == code_hash,
        RecoveryRequest.created_at > moment - timedelta(hours=1)))
    if sent >= cfg.otp_hourly_limit:
        raise DomainError("otp_hourly_limit")


def _send_code(row: RecoveryRequest) -> None:
    """Send the SMS code of the request; a failure looks like success outside.

    A request without an account gets a phantom challenge instead, checked in step 2
    exactly like a sent code. Called after the request's own unit of work committed:
    a code that cannot be sent (per-mobile limit, gateway down) leaves the request open,
    and :func:`otp.issue_code`'s own unit keeps nothing of it.
    """
    if row.user_id is None:
        otp.issue_phantom(PURPOSE, str(row.id))
        return
    user = db.session.get(User, row.user_id)
    try:
        # A verified address gets a copy of the code (a second channel, never the only one).
        otp.issue_code(PURPOSE, str(row.id), user.mobile,
                       copy_to_email=user.email if user.email_verified_at else None)
    except DomainError as e:  # per-mobile limit or SMS gateway down: answer as usual
        logger.warning("recovery code for user %s not sent: %s", user.id, e.code)
        # Typed codes must then be answered as for a code without an account ("n tries
        # left"), not "no longer valid", which would tell that the account exists.
        otp.issue_phantom(PURPOSE, str(row.id))


def start(id_code: str, next_url: str | None = None, ip: str | None = None) -> str:
    """Open a recovery request for ``id_code``; return the random key for the browser.

    :raises DomainError: ``otp_resend_too_soon`` or ``otp_hourly_limit`` (per code, for
        every code alike).
    """
    raw, row = _open_request(id_code, next_url, ip)
    _send_code(row)
    return raw


@transactional
def _open_request(id_code: str, next_url: str | None, ip: str | None
                  ) -> tuple[str, RecoveryRequest]:
    code_hash = keyed_hash(id_code, PURPOSE)
    _check_send_limits(code_hash)
    user = signin.find_user(id_code)
    eligible = user is not None and user.status not in signin.BLOCKED_STATUSES
    raw = secrets.token_urlsafe(32)
    moment = now()
    row = RecoveryRequest(key_hash=sha256(raw), code_hash=code_hash,
                          user_id=user.id if eligible else None, next_url=next_url, sends=1,
                          sent_at=moment, created_at=moment,
                          expires_at=moment + timedelta(seconds=settings.current().recovery_ttl))
    db.session.add(row)
    audit.record("recovery_requested", user_id=user.id if user else None, ip=ip,
                 account=eligible)
    return raw, row


def _live(raw: str | None) -> RecoveryRequest:
    row = None
    if raw:
        row = db.session.scalar(select(RecoveryRequest).where(
            RecoveryRequest.key_hash == sha256(raw), RecoveryRequest.completed_at.is_(None),
            RecoveryRequest.expires_at > now()))
    if row is None:
        raise DomainError("recovery_expired")
    return row


def is_open(raw: str | None, verified: bool = False) -> bool:
    """Tell whether the browser's request is still open (and, optionally, verified)."""
    try:
        row = _live(raw)
    except DomainError:
        return False
    return row.verified_at is not None if verified else True


def seconds_until_resend(raw: str | None) -> int:
    """Seconds before the "send again" button works (for the page's countdown)."""
    try:
        row = _live(raw)
    except DomainError:
        return 0
    wait = (row.sent_at + timedelta(seconds=settings.current().otp_resend_after)
            - now()).total_seconds()
    return max(0, math.ceil(wait))


def resend(raw: str | None) -> None:
    """Send a new code for the open request (the old one stops counting).

    :raises DomainError: ``recovery_expired``, ``otp_resend_too_soon`` or ``otp_hourly_limit``.
    """
    _send_code(_count_resend(raw))


@transactional
def _count_resend(raw: str | None) -> RecoveryRequest:
    row = _live(raw)
    _check_send_limits(row.code_hash, last_sent=row.sent_at)
    row.sends += 1
    row.sent_at = now()
    return row


@transactional
def verify(raw: str | None, code: str, ip: str | None = None) -> None:
    """Check the SMS code of step 2.

    :raises DomainError: ``recovery_expired``, ``otp_invalid`` (with ``attempts_left``),
        ``otp_expired`` or ``otp_dead``.
    """
    row = _live(raw)
    if row.verified_at is not None:
        return
    user_id = row.user_id
    try:
        otp.verify_code(PURPOSE, str(row.id), code)
    except DomainError as e:
        with failure_record():
            audit.record("recovery_code_failed", user_id=user_id, ip=ip, reason=e.code)
        raise
    row.verified_at = now()
    audit.record("recovery_code_verified", user_id=row.user_id, ip=ip)


@transactional
def finish(raw: str | None, new_password: str, ip: str | None = None
           ) -> tuple[User, str | None]:
    """Set the new password of step 3; return the account and the ``next`` it started with.

    Revokes every SSO session and refresh-token family of the account and sends the
    "password changed" SMS.

    :raises DomainError: ``recovery_expired`` (also when step 2 was not passed) or
        ``password_rules``.
    """
    row = _live(raw)
    if row.verified_at is None or row.user_id is None:
        raise DomainError("recovery_expired")
    user = db.session.get(User, row.user_id)
    profile.validate_new_password(user, new_password, check_current=False)
    row.completed_at = now()
    profile.set_password(user, new_password, event="password_reset", ip=ip)
    profile.notify_password_changed(user)
    return user, row.next_url
