"""The account lockout shared by every check of an account's password.

Sign-in and the forms of a signed-in citizen that ask for the current password (password
change, mobile change) count wrong answers on the same counter (``User.failed_logins``):
after ``LOGIN_MAX_FAILURES`` in a row the account is locked for ``LOGIN_LOCKOUT_SECONDS``,
so a stolen session is no better a password oracle than the sign-in page.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import update

from .. import audit, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import User
from ..unit_of_work import failure_record


def remaining(user: User) -> int:
    """Seconds left of a temporary lockout (0 when not locked)."""
    if user.locked_until is None:
        return 0
    return max(0, math.ceil((user.locked_until - now()).total_seconds()))


def locked_error(seconds: int) -> DomainError:
    """The error answering a check of a temporarily locked account."""
    return DomainError("account_temporarily_locked", minutes=max(1, math.ceil(seconds / 60)))


def count_failure(user: User, ip: str | None, event: str, **fields) -> DomainError | None:
    """Count a wrong password with an atomic UPDATE and lock the account at the limit.

    Records ``event`` (with ``fields``) and, at the limit, ``login_lockout``; both are
    committed by :func:`~idp.unit_of_work.failure_record`, which drops what the failing use
    case wrote. Returns ``None`` below the limit, or ``account_temporarily_locked`` when
    this failure reached it.
    """
    cfg = settings.current()
    user_id = user.id
    with failure_record():
        failures = db.session.execute(
            update(User).where(User.id == user_id)
            .values(failed_logins=User.failed_logins + 1)
            .returning(User.failed_logins)
        ).scalar_one()
        audit.record(event, user_id=user_id, ip=ip, failures=failures, **fields)
        if failures < cfg.login_max_failures:
            return None
        seconds = cfg.login_lockout_seconds
        db.session.execute(update(User).where(User.id == user_id).values(
            failed_logins=0, locked_until=now() + timedelta(seconds=seconds)))
        audit.record("login_lockout", user_id=user_id, ip=ip, seconds=seconds)
    return locked_error(seconds)
