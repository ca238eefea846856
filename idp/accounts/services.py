"""Account services: sign-in with lockout, password change and the account page's actions.

Views call these; they raise :class:`~idp.errors.DomainError` with a code from
``idp.messages`` and never touch the request beyond what they are given.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, grants
from ..errors import DomainError
from ..extensions import db, now
from ..identity import Status, jalali, registry
from ..models import LoginThrottle, SsoSession, User
from ..security import otp
from ..security.hashing import keyed_hash
from ..sms import SmsUnavailable, send_template
from ..text import mask_mobile, mask_personal_numbers
from . import passwords, session

logger = logging.getLogger("idp.accounts")

#: Account statuses that may never sign in, mapped to their message code.
BLOCKED_STATUSES = {"locked": "account_locked", "disabled": "account_disabled",
                    "deceased": "account_deceased"}


def find_user(id_code: str) -> User | None:
    """Return the account of a national or FIDA code (ASCII digits), or ``None``."""
    return db.session.scalar(select(User).where(User.id_code == id_code))


def _lock_remaining(user: User) -> int:
    """Seconds left of a temporary lockout (0 when not locked)."""
    if user.locked_until is None:
        return 0
    return max(0, math.ceil((user.locked_until - now()).total_seconds()))


def _locked_error(seconds: int) -> DomainError:
    return DomainError("account_temporarily_locked", minutes=max(1, math.ceil(seconds / 60)))


def authenticate(id_code: str, password: str, ip: str | None = None) -> User:
    """Check a national/FIDA code and password; return the account on success.

    Every wrong code/password combination raises the same ``login_failed``, and an
    unknown code still costs one argon2 verification (against a dummy hash), so neither
    the message nor the time tells whether an account exists. Wrong passwords are counted
    in the database; after ``LOGIN_MAX_FAILURES`` in a row the account is locked for
    ``LOGIN_LOCKOUT_SECONDS``. A blocked account (locked by an operator, disabled or
    deceased) is reported only to someone who typed its right password.

    A successful check resets the failure counter and upgrades a hash made with older
    argon2 parameters. The caller starts the session.

    :raises DomainError: ``login_failed``, ``account_temporarily_locked`` (with
        ``minutes``), ``account_locked``, ``account_disabled`` or ``account_deceased``.
    """
    user = find_user(id_code)
    if user is None:
        _refuse_unknown_code(id_code, password, ip)

    remaining = _lock_remaining(user)
    if remaining:
        passwords.verify_password(None, password)  # same cost as any other answer
        audit.record("login_refused", user_id=user.id, ip=ip, reason="temporarily_locked")
        db.session.commit()
        raise _locked_error(remaining)

    if not passwords.verify_password(user.password_hash, password):
        _count_failure(user, ip)

    if user.status in BLOCKED_STATUSES:
        audit.record("login_refused", user_id=user.id, ip=ip, reason=user.status)
        db.session.commit()
        raise DomainError(BLOCKED_STATUSES[user.status])

    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        audit.record("password_rehashed", user_id=user.id, ip=ip)
    audit.record("login_ok", user_id=user.id, ip=ip)
    db.session.commit()
    return user


def _refuse_unknown_code(id_code: str, password: str, ip: str | None) -> None:
    """Answer a code without an account exactly as a wrong password would be answered.

    Its failures are counted under a keyed hash of the code and lock it for the same
    time, so "temporarily locked" is no sign that an account exists.

    :raises DomainError: always: ``login_failed`` or ``account_temporarily_locked``.
    """
    cfg = current_app.config
    code_hash = keyed_hash(id_code, "login_throttle")
    moment = now()
    row = db.session.get(LoginThrottle, code_hash)
    if row is None:
        db.session.add(LoginThrottle(code_hash=code_hash, failures=0, updated_at=moment))
        try:
            db.session.commit()
        except IntegrityError:  # another request created it first
            db.session.rollback()
        row = db.session.get(LoginThrottle, code_hash)
    remaining = 0
    if row.locked_until is not None:
        remaining = max(0, math.ceil((row.locked_until - moment).total_seconds()))
    passwords.verify_password(None, password)  # the same cost as a real account's check
    audit.record("login_failed", ip=ip, reason="unknown_account",
                 id_code=mask_personal_numbers(id_code))
    if remaining:
        db.session.commit()
        raise _locked_error(remaining)
    failures = db.session.execute(
        update(LoginThrottle).where(LoginThrottle.code_hash == code_hash)
        .values(failures=LoginThrottle.failures + 1, updated_at=moment)
        .returning(LoginThrottle.failures)
    ).scalar_one()
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        seconds = cfg["LOGIN_LOCKOUT_SECONDS"]
        db.session.execute(update(LoginThrottle).where(LoginThrottle.code_hash == code_hash)
                           .values(failures=0, locked_until=moment + timedelta(seconds=seconds)))
        db.session.commit()
        raise _locked_error(seconds)
    db.session.commit()
    raise DomainError("login_failed")


def _count_failure(user: User, ip: str | None) -> None:
    """Count a wrong password with an atomic UPDATE; lock the account at the limit.

    :raises DomainError: always: ``login_failed``, or ``account_temporarily_locked``
        when this failure reached the limit.
    """
    cfg = current_app.config
    failures = db.session.execute(
        update(User).where(User.id == user.id)
        .values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)
    ).scalar_one()
    audit.record("login_failed", user_id=user.id, ip=ip, reason="wrong_password",
                 failures=failures)
    if failures >= cfg["LOGIN_MAX_FAILURES"]:
        seconds = cfg["LOGIN_LOCKOUT_SECONDS"]
        db.session.execute(update(User).where(User.id == user.id).values(
            failed_logins=0, locked_until=now() + timedelta(seconds=seconds)))
        audit.record("login_lockout", user_id=user.id, ip=ip, seconds=seconds)
        db.session.commit()
        raise _locked_error(seconds)
    db.session.commit()
    raise DomainError("login_failed")


def validate_new_password(user: User, new_password: str, *, check_current: bool = True) -> None:
    """Apply the password rules to a new password for ``user``.

    :raises DomainError: ``password_rules`` on field ``new_password``, with ``codes`` the
        list of every broken rule (each has its own message).
    """
    codes = passwords.check_password_rules(
        new_password, user.id_code, user.password_hash if check_current else None)
    if codes:
        raise DomainError("password_rules", field="new_password", codes=codes)


def revoke_tokens(user_id: int, keep_sid: str | None = None) -> int:
    """Revoke every refresh-token family of a user (and their access tokens); return how many.

    Families issued inside the SSO session ``keep_sid`` are kept (password change keeps
    the citizen's own browser signed in). The caller commits.
    """
    return grants.revoke_for_user(user_id, keep_sid=keep_sid)


def set_password(user: User, new_password: str, *, event: str, ip: str | None = None,
                 keep_sid: str | None = None) -> None:
    """Store a new password (rules already checked) and sign the account out elsewhere.

    Ends every other SSO session of the account (back-channel logout follows through
    ``session_ended``), revokes refresh-token families outside ``keep_sid``, clears a
    temporary lockout and the "must change password" flag, and records ``event``.
    """
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = now()
    user.must_change_password = False
    user.failed_logins = 0
    user.locked_until = None
    revoked = revoke_tokens(user.id, keep_sid=keep_sid)
    audit.record(event, user_id=user.id, ip=ip, token_families_revoked=revoked)
    db.session.commit()
    session.end_all_sessions(user.id, reason=event, keep_sid=keep_sid)


def set_expired_password(user_id: int, new_password: str, ip: str | None = None) -> User:
    """Replace the password of an account flagged ``must_change_password`` after sign-in.

    :raises DomainError: ``password_rules`` (see :func:`validate_new_password`) or
        ``password_change_expired`` when the account is gone or no longer flagged.
    """
    user = db.session.get(User, user_id)
    if user is None or not user.must_change_password or user.status in BLOCKED_STATUSES:
        raise DomainError("password_change_expired")
    validate_new_password(user, new_password)
    notify_password_changed(user)
    set_password(user, new_password, event="password_expired_changed", ip=ip)
    return user


def jalali_datetime(value: datetime) -> str:
    """Return an aware time as Tehran's Solar Hijri ``YYYY/MM/DD HH:MM`` (ASCII digits)."""
    local = value.astimezone(jalali.TEHRAN)
    return f"{jalali.format_date(local.date(), persian_digits=False)} {local:%H:%M}"


def account_overview(user: User) -> dict:
    """Return what the account page shows about ``user`` (identity data read-only)."""
    return {
        "full_name": user.full_name,
        "id_type": user.id_type,
        "id_code": user.id_code,
        "father_name": user.father_name,
        "certificate_number": user.certificate_number,
        "gender": user.gender,
        "birth_date": jalali.format_date(user.birth_date, persian_digits=False),
        "mobile": user.mobile,
        "email": user.email or "",
    }


def notify(mobile: str, template: str, **context) -> None:
    """Send an SMS notice; a gateway failure is logged, never undoes what was done."""
    try:
        send_template(mobile, template, **context)
    except SmsUnavailable:
        logger.warning("sms notice %s to %s not sent", template, mask_mobile(mobile))


def notify_password_changed(user: User) -> None:
    """Send the "your password was changed" SMS to the account's mobile (caller commits)."""
    notify(user.mobile, "password_changed", name=user.full_name, when=jalali_datetime(now()))


def change_password(user: User, current_password: str, new_password: str, *,
                    keep_sid: str | None, ip: str | None = None) -> None:
    """Change a signed-in citizen's password (تغییر گذرواژه).

    Checks the current password, applies the password rules (including "not the current
    password"), ends every other SSO session, revokes the refresh tokens issued outside
    the session ``keep_sid`` and sends the SMS notice.

    :raises DomainError: ``current_password_wrong`` (field ``current_password``) or
        ``password_rules``.
    """
    if not passwords.verify_password(user.password_hash, current_password):
        audit.record("password_change_failed", user_id=user.id, ip=ip,
                     reason="wrong_current_password")
        db.session.commit()
        raise DomainError("current_password_wrong", field="current_password")
    validate_new_password(user, new_password)
    notify_password_changed(user)
    set_password(user, new_password, event="password_changed", ip=ip, keep_sid=keep_sid)


def update_email(user: User, email: str, ip: str | None = None) -> None:
    """Store a new email address (already normalised and checked by the form)."""
    if (user.email or "") == email:
        return
    user.email = email or None
    audit.record("email_changed", user_id=user.id, ip=ip)
    db.session.commit()


def list_sessions(user_id: int) -> list[SsoSession]:
    """Return the user's live SSO sessions (not ended, expired or idle), newest use first."""
    moment = now()
    rows = db.session.scalars(select(SsoSession).where(
        SsoSession.user_id == user_id, SsoSession.ended_at.is_(None),
        SsoSession.expires_at > moment,
    ).order_by(SsoSession.last_seen_at.desc(), SsoSession.id.desc()))
    return [row for row in rows if session.is_live(row, moment)]


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


def start_mobile_change(user: User, password: str, new_mobile: str,
                        ip: str | None = None) -> None:
    """Check a new mobile number and send a code to it (step 1 of the mobile change).

    The current password is asked again (the mobile is what recovers the account), the
    number must be registered to the citizen's code (mobile-ownership service) and the
    code goes to the new number.

    :raises DomainError: ``current_password_wrong``, ``mobile_same_as_current``,
        ``mobile_change_not_owned``, ``identity_unavailable``, or an ``otp_*`` limit.
    """
    if not passwords.verify_password(user.password_hash, password):
        audit.record("mobile_change_failed", user_id=user.id, ip=ip,
                     reason="wrong_current_password")
        db.session.commit()
        raise DomainError("current_password_wrong", field="password")
    if new_mobile == user.mobile:
        raise DomainError("mobile_same_as_current", field="mobile")
    result = registry().verify_mobile_owner(user.id_type, user.id_code, new_mobile)
    if result.status is Status.UNAVAILABLE:
        raise DomainError("identity_unavailable")
    if not result.ok:
        audit.record("mobile_change_failed", user_id=user.id, ip=ip, reason="not_owned",
                     mobile=mask_mobile(new_mobile))
        db.session.commit()
        raise DomainError("mobile_change_not_owned", field="mobile")
    otp.issue_code("mobile_change", str(user.id), new_mobile)


def pending_mobile(user: User) -> str | None:
    """Return the new mobile a live mobile-change code was sent to, if any."""
    challenge = otp.latest_challenge("mobile_change", str(user.id))
    if challenge is None or challenge.consumed_at is not None or challenge.expires_at <= now():
        return None
    return challenge.mobile


def resend_mobile_code(user: User) -> None:
    """Send a new code to the pending new mobile.

    :raises DomainError: ``otp_expired`` when nothing is pending, or an ``otp_*`` limit.
    """
    mobile = pending_mobile(user)
    if mobile is None:
        raise DomainError("otp_expired", field="code")
    otp.issue_code("mobile_change", str(user.id), mobile)


def confirm_mobile_change(user: User, code: str, ip: str | None = None) -> str:
    """Check the code sent to the new mobile and switch the account to it; return it.

    The old number gets an SMS notice (in case someone else made the change).

    :raises DomainError: ``otp_invalid``, ``otp_expired`` or ``otp_dead``.
    """
    challenge = otp.verify_code("mobile_change", str(user.id), code)
    old = user.mobile
    user.mobile = challenge.mobile
    notify(old, "mobile_changed", name=user.full_name, new_mobile=mask_mobile(challenge.mobile),
           when=jalali_datetime(now()))
    audit.record("mobile_changed", user_id=user.id, ip=ip, old=mask_mobile(old),
                 new=mask_mobile(challenge.mobile))
    db.session.commit()
    return challenge.mobile


def seconds_until_resend(mobile: str) -> int:
    """Seconds before another code may be sent to ``mobile`` (for the page's countdown)."""
    return otp.seconds_until_resend(mobile)
