"""Sign-in checks: the account of a code, the password with lockout, blocked statuses,
and the new password an expired one must be replaced with.

Views and sign-in steps call these; they raise :class:`~idp.errors.DomainError` with a
code from ``idp.messages`` and never touch the request beyond what they are given.
"""

from __future__ import annotations

import math
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..errors import DomainError
from ..extensions import db, now
from ..models import LoginThrottle, User
from ..security.hashing import keyed_hash
from ..text import mask_personal_numbers
from . import passwords, profile

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


def set_expired_password(user_id: int, new_password: str, ip: str | None = None) -> User:
    """Replace the password of an account flagged ``must_change_password`` after sign-in.

    :raises DomainError: ``password_rules`` (see
        :func:`~idp.accounts.profile.validate_new_password`) or ``password_change_expired``
        when the account is gone, blocked or no longer flagged.
    """
    user = db.session.get(User, user_id)
    if user is None or not user.must_change_password or user.status in BLOCKED_STATUSES:
        raise DomainError("password_change_expired")
    profile.validate_new_password(user, new_password)
    profile.notify_password_changed(user)
    profile.set_password(user, new_password, event="password_expired_changed", ip=ip)
    return user
