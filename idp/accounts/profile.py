"""The account page's actions: identity overview, password change, email, mobile change,
and the SMS notices that follow them.

Views call these; they raise :class:`~idp.errors.DomainError` with a code from
``idp.messages`` and never touch the request beyond what they are given.
"""

from __future__ import annotations

import logging

from .. import audit, grants
from ..errors import DomainError
from ..extensions import now
from ..identity import Status, jalali, registry
from ..models import User
from ..security import otp
from ..sms import SmsUnavailable, send_template
from ..text import mask_mobile
from ..unit_of_work import failure_record, transactional
from . import email_address, lockout, passwords, session

logger = logging.getLogger("idp.accounts")


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
    the citizen's own browser signed in). Joins the caller's unit of work.
    """
    return grants.revoke_for_user(user_id, keep_sid=keep_sid)


@transactional
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
    session.end_all_sessions(user.id, reason=event, keep_sid=keep_sid)


def notify(mobile: str, template: str, **context) -> None:
    """Send an SMS notice; a gateway failure is logged, never undoes what was done.

    The outbox row joins the caller's unit of work (see :mod:`idp.sms`).
    """
    try:
        send_template(mobile, template, **context)
    except SmsUnavailable:
        logger.warning("sms notice %s to %s not sent", template, mask_mobile(mobile))


def notify_password_changed(user: User) -> None:
    """Send the "your password was changed" SMS to the account's mobile."""
    notify(user.mobile, "password_changed", name=user.full_name,
           when=jalali.format_datetime(now(), persian_digits=False))


def check_current_password(user: User, password: str, *, event: str, field: str,
                           ip: str | None = None) -> None:
    """Check the password a signed-in citizen typed again, counted like a sign-in.

    A wrong answer is counted on the account's sign-in lockout counter (and recorded as
    ``event``), so a stolen session gets no more guesses than the sign-in page; a right
    one resets it. While the account is locked the password is not checked at all.

    :raises DomainError: ``current_password_wrong`` on ``field``, or
        ``account_temporarily_locked`` (the caller ends the session).
    """
    seconds = lockout.remaining(user)
    if seconds:
        passwords.verify_password(None, password)  # the same cost as any other answer
        with failure_record():
            audit.record(event, user_id=user.id, ip=ip, reason="temporarily_locked")
        raise lockout.locked_error(seconds)
    if not passwords.verify_password(user.password_hash, password):
        raise lockout.count_failure(user, ip, event, reason="wrong_current_password") \
            or DomainError("current_password_wrong", field=field)
    user.failed_logins = 0


@transactional
def change_password(user: User, current_password: str, new_password: str, *,
                    keep_sid: str | None, ip: str | None = None) -> None:
    """Change a signed-in citizen's password (تغییر گذرواژه).

    Checks the current password, applies the password rules (including "not the current
    password"), ends every other SSO session, revokes the refresh tokens issued outside
    the session ``keep_sid`` and sends the SMS notice.

    :raises DomainError: ``current_password_wrong`` (field ``current_password``),
        ``account_temporarily_locked`` (see :func:`check_current_password`) or
        ``password_rules``.
    """
    check_current_password(user, current_password, event="password_change_failed",
                           field="current_password", ip=ip)
    validate_new_password(user, new_password)
    set_password(user, new_password, event="password_changed", ip=ip, keep_sid=keep_sid)
    notify_password_changed(user)


@transactional
def update_email(user: User, email: str, ip: str | None = None) -> bool:
    """Store a new email address (already normalised and checked by the form), unverified,
    and mail it a code (:func:`idp.accounts.email_address.change`)."""
    return email_address.change(user, email, ip=ip)


@transactional
def start_mobile_change(user: User, password: str, new_mobile: str,
                        ip: str | None = None) -> None:
    """Check a new mobile number and send a code to it (step 1 of the mobile change).

    The current password is asked again (the mobile is what recovers the account), the
    number must be registered to the citizen's code (mobile-ownership service) and the
    code goes to the new number.

    :raises DomainError: ``current_password_wrong``, ``account_temporarily_locked``,
        ``mobile_same_as_current``,
        ``mobile_change_not_owned``, ``identity_unavailable``, or an ``otp_*`` limit.
    """
    check_current_password(user, password, event="mobile_change_failed", field="password",
                           ip=ip)
    if new_mobile == user.mobile:
        raise DomainError("mobile_same_as_current", field="mobile")
    result = registry().verify_mobile_owner(user.id_type, user.id_code, new_mobile)
    if result.status is Status.UNAVAILABLE:
        raise DomainError("identity_unavailable")
    if not result.ok:
        with failure_record():
            audit.record("mobile_change_failed", user_id=user.id, ip=ip, reason="not_owned",
                         mobile=mask_mobile(new_mobile))
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


@transactional
def confirm_mobile_change(user: User, code: str, ip: str | None = None) -> str:
    """Check the code sent to the new mobile and switch the account to it; return it.

    The old number gets an SMS notice (in case someone else made the change).

    :raises DomainError: ``otp_invalid``, ``otp_expired`` or ``otp_dead``.
    """
    challenge = otp.verify_code("mobile_change", str(user.id), code)
    old = user.mobile
    user.mobile = challenge.mobile
    audit.record("mobile_changed", user_id=user.id, ip=ip, old=mask_mobile(old),
                 new=mask_mobile(challenge.mobile))
    notify(old, "mobile_changed", name=user.full_name, new_mobile=mask_mobile(challenge.mobile),
           when=jalali.format_datetime(now(), persian_digits=False))
    return challenge.mobile


def seconds_until_resend(mobile: str) -> int:
    """Seconds before another code may be sent to ``mobile`` (for the page's countdown)."""
    return otp.seconds_until_resend("mobile_change", mobile)
