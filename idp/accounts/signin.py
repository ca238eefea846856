"""Sign-in checks: the account of a code, the password with lockout, blocked statuses,
and the new password an expired one must be replaced with.

Views and sign-in steps call these; they raise :class:`~idp.errors.DomainError` with a
code from ``idp.messages`` and never touch the request beyond what they are given.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import and_, case, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import LoginThrottle, User
from ..security.hashing import keyed_hash
from ..text import mask_personal_numbers
from ..unit_of_work import failure_record, transactional
from . import lockout, passwords, profile

#: Account statuses that may never sign in, mapped to their message code.
BLOCKED_STATUSES = {"locked": "account_locked", "disabled": "account_disabled",
                    "deceased": "account_deceased"}


#: ``INSERT … ON CONFLICT DO UPDATE`` by dialect (both speak it; Core has no generic form).
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def find_user(id_code: str) -> User | None:
    """Return the account of a national or FIDA code (ASCII digits), or ``None``."""
    return db.session.scalar(select(User).where(User.id_code == id_code))


@transactional
def authenticate(id_code: str, password: str, ip: str | None = None) -> User:
    """Check a national/FIDA code and password; return the account on success.

    Every wrong code/password combination raises the same ``login_failed``, and an
    unknown code still costs one argon2 verification (against a dummy hash), so neither
    the message nor the time tells whether an account exists. Wrong passwords are counted
    in the database; after ``LOGIN_MAX_FAILURES`` in a row the account is locked for
    ``LOGIN_LOCKOUT_SECONDS``. A blocked account (locked by an operator, disabled or
    deceased) is reported only to someone who typed its right password. Each refusal is
    audited, and the refusal and its counter are committed although the sign-in fails.

    A successful check resets the failure counter and upgrades a hash made with older
    argon2 parameters. The caller starts the session (in the same unit of work).

    :raises DomainError: ``login_failed``, ``account_temporarily_locked`` (with
        ``minutes``), ``account_locked``, ``account_disabled`` or ``account_deceased``.
    """
    user = find_user(id_code)
    if user is None:
        passwords.verify_password(None, password)  # the same cost as a real account's check
        raise _refuse_unknown_code(id_code, ip)

    remaining = lockout.remaining(user)
    if remaining:
        passwords.verify_password(None, password)  # same cost as any other answer
        with failure_record():
            audit.record("login_refused", user_id=user.id, ip=ip, reason="temporarily_locked")
        raise lockout.locked_error(remaining)

    if not passwords.verify_password(user.password_hash, password):
        raise lockout.count_failure(user, ip, "login_failed", reason="wrong_password") \
            or DomainError("login_failed")

    if user.status in BLOCKED_STATUSES:
        status = user.status
        with failure_record():
            audit.record("login_refused", user_id=user.id, ip=ip, reason=status)
        raise DomainError(BLOCKED_STATUSES[status])

    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        audit.record("password_rehashed", user_id=user.id, ip=ip)
    audit.record("login_ok", user_id=user.id, ip=ip)
    return user


def _refuse_unknown_code(id_code: str, ip: str | None) -> DomainError:
    """Count a sign-in with a code without an account as a wrong password would be counted;
    return the error to answer it with.

    Its failures are counted under a keyed hash of the code and lock it for the same
    time, so "temporarily locked" is no sign that an account exists. The count and the
    audit row are committed by :func:`~idp.unit_of_work.failure_record`.
    """
    cfg = settings.current()
    code_hash = keyed_hash(id_code, "login_throttle")
    moment = now()
    table = LoginThrottle.__table__
    # One upsert whether or not the code was seen before, so a first attempt costs what a
    # known account's wrong password costs (a read, a counter write, the audit row). A
    # lockout still running leaves the count alone.
    locked = and_(table.c.locked_until.is_not(None), table.c.locked_until > moment)
    upsert = _INSERTS[db.session.get_bind().dialect.name](table).values(
        code_hash=code_hash, failures=1, updated_at=moment)
    upsert = upsert.on_conflict_do_update(index_elements=["code_hash"], set_={
        "failures": case((locked, table.c.failures), else_=table.c.failures + 1),
        "updated_at": moment,
    }).returning(table.c.failures, table.c.locked_until)
    with failure_record():
        failures, locked_until = db.session.execute(upsert).one()
        audit.record("login_failed", ip=ip, reason="unknown_account",
                     id_code=mask_personal_numbers(id_code))
        if locked_until is not None and locked_until > moment:
            return lockout.locked_error(math.ceil((locked_until - moment).total_seconds()))
        if failures < cfg.login_max_failures:
            return DomainError("login_failed")
        seconds = cfg.login_lockout_seconds
        db.session.execute(update(LoginThrottle).where(LoginThrottle.code_hash == code_hash)
                           .values(failures=0, locked_until=moment + timedelta(seconds=seconds)))
        audit.record("login_lockout", ip=ip, seconds=seconds, reason="unknown_account")
    return lockout.locked_error(seconds)


@transactional
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
    profile.set_password(user, new_password, event="password_expired_changed", ip=ip)
    profile.notify_password_changed(user)
    return user
