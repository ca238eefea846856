"""A citizen's second factor: an authenticator app (TOTP) from the account page.

Enrolment reuses :mod:`idp.security.totp` (the admins' one): a QR code and secret shown
once, confirmed by a code, then recovery codes shown once. A code checked at sign-in or
step-up counts a wrong answer twice: on the TOTP window of :mod:`~idp.security.totp`
(which a correct password does not reset) and on the password lockout
(:mod:`.lockout`), so an account gets no more guesses at its code than at its password.
Removal asks for the password, counted the same way. Every change is audited and
announced through :func:`notify_factor_changed`.
"""

from __future__ import annotations

import logging

from .. import audit
from ..errors import DomainError
from ..models import SsoSession, User
from ..security import totp
from ..unit_of_work import failure_record, transactional
from . import lockout, notices, profile, session

logger = logging.getLogger(__name__)

#: The factor name :func:`notify_factor_changed` is given for the authenticator app.
TOTP = "totp"


def notify_factor_changed(user: User, factor: str, added: bool) -> None:
    """Tell the citizen a second factor was added or removed: an SMS, or a mail to a
    verified address (:func:`idp.accounts.notices.factor_changed`), in the caller's unit of
    work."""
    logger.info("second factor %s %s for user %s", factor, "added" if added else "removed",
                user.id)
    notices.factor_changed(user, factor, added)


def _check_not_locked(user: User, ip: str | None) -> None:
    seconds = lockout.remaining(user)
    if seconds:
        with failure_record():
            audit.record("totp_failed", user_id=user.id, ip=ip, reason="temporarily_locked")
        raise lockout.locked_error(seconds)


@transactional
def verify_code(user: User, code: str, ip: str | None = None) -> str:
    """Check a code of the authenticator app, or a recovery code; return which one.

    :raises DomainError: ``totp_not_enrolled``, ``totp_invalid``, ``totp_too_many`` or
        ``account_temporarily_locked`` (this failure, or an earlier one, locked it).
    """
    _check_not_locked(user, ip)
    method = totp.verify(user, code, ip=ip, count_failure=lockout.count_failure)
    user.failed_logins = 0
    return method


@transactional
def start_enrolment(user: User) -> totp.Enrolment:
    """Give ``user`` a new authenticator-app secret to scan (replacing an unconfirmed one).

    :raises DomainError: ``totp_already_enrolled``.
    """
    return totp.start_enrolment(user)


@transactional
def confirm_enrolment(user: User, code: str, row: SsoSession, ip: str | None = None
                      ) -> list[str]:
    """Confirm the app with a code from it; return the recovery codes (shown once).

    The code proves the factor, so the session ``row`` gains ``otp`` (and ``mfa``)
    and the level they reach.

    :raises DomainError: ``totp_already_enrolled``, ``totp_not_enrolled``,
        ``totp_invalid`` or ``totp_too_many``.
    """
    codes = totp.confirm_enrolment(user, code, ip=ip)
    session.raise_session(row, amr=_with_second_factor(row.amr), admin=False)
    notify_factor_changed(user, TOTP, added=True)
    return codes


def _with_second_factor(amr) -> list[str]:
    amr = list(amr or [])
    new = [m for m in ("otp", "mfa") if m not in amr]
    return [*amr, *new]


@transactional
def remove(user: User, password: str, ip: str | None = None) -> None:
    """Remove the authenticator app and its recovery codes after checking the password.

    "Always ask for my second factor" is turned off with it (nothing is left to ask).

    :raises DomainError: ``totp_not_enrolled``, ``current_password_wrong`` or
        ``account_temporarily_locked`` (the caller ends the session).
    """
    if not totp.is_enrolled(user):
        raise DomainError("totp_not_enrolled")
    profile.check_current_password(user, password, event="totp_removal_refused",
                                   field="password", ip=ip)
    totp.reset(user)
    user.always_second_factor = False
    audit.record("totp_removed", user_id=user.id, actor_id=user.id, ip=ip)
    notify_factor_changed(user, TOTP, added=False)


@transactional
def set_always_ask(user: User, on: bool, ip: str | None = None) -> None:
    """Record the citizen's choice to be asked the second factor at every sign-in.

    :raises DomainError: ``totp_not_enrolled`` when turning it on without a second factor.
    """
    if on and not totp.is_enrolled(user):
        raise DomainError("totp_not_enrolled")
    if user.always_second_factor != on:
        user.always_second_factor = on
        audit.record("second_factor_preference", user_id=user.id, ip=ip, always=on)
