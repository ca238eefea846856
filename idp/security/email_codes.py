"""One-time codes that prove an email address: issue, throttle and verify.

The sibling of :mod:`idp.security.otp` for a target that is not a mobile: the same
6-digit codes from :mod:`secrets`, stored only as an HMAC (``keyed_hash(code,
"email_otp")``), ``OTP_MAX_ATTEMPTS`` wrong tries and single use, but valid for
``EMAIL_CODE_TTL`` seconds (mail can be slow). Only the newest code of a subject counts
and it proves only the address it was mailed to. A subject gets a new code only
``OTP_RESEND_AFTER`` seconds after the previous one, and an address at most
``OTP_HOURLY_LIMIT`` codes in any hour, whoever asks.

The mail row joins the caller's unit of work (:mod:`idp.mail`), so a refused or
rolled-back use case mails nothing.
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import func, select

from .. import mail, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import EmailChallenge
from ..unit_of_work import transactional
from . import otp
from .hashing import keyed_hash

_PURPOSE = "email_otp"  # the HMAC key's purpose: never the same key as SMS codes


def latest_challenge(subject: str) -> EmailChallenge | None:
    """Return the newest challenge of ``subject``, used or not."""
    return db.session.scalar(
        select(EmailChallenge).where(EmailChallenge.subject == subject)
        .order_by(EmailChallenge.created_at.desc(), EmailChallenge.id.desc()).limit(1))


def seconds_until_resend(subject: str) -> int:
    """Seconds until ``subject`` may get a new code (0: now). For countdowns."""
    last = latest_challenge(subject)
    if last is None:
        return 0
    ready = last.created_at + timedelta(seconds=settings.current().otp_resend_after)
    return max(0, math.ceil((ready - now()).total_seconds()))


@transactional
def issue_code(subject: str, email: str) -> EmailChallenge:
    """Mail a new code for ``subject`` to ``email`` (normalised, checked by the form).

    :raises DomainError: ``otp_resend_too_soon`` (with ``seconds``) or
        ``email_hourly_limit``; nothing is written then.
    """
    wait = seconds_until_resend(subject)
    if wait:
        raise DomainError("otp_resend_too_soon", seconds=wait)
    moment = now()
    cfg = settings.current()
    sent = db.session.scalar(select(func.count(EmailChallenge.id)).where(
        EmailChallenge.email == email, EmailChallenge.created_at > moment - timedelta(hours=1)))
    if sent >= cfg.otp_hourly_limit:
        raise DomainError("email_hourly_limit")
    code = otp.new_code()
    challenge = EmailChallenge(
        subject=subject, email=email, code_hmac=keyed_hash(code, _PURPOSE), attempts=0,
        created_at=moment, expires_at=moment + timedelta(seconds=cfg.email_code_ttl))
    db.session.add(challenge)
    db.session.flush()
    mail.send_template(email, "email_code", code=code, minutes=max(1, cfg.email_code_ttl // 60))
    return challenge


@transactional
def verify_code(subject: str, email: str, code: str) -> EmailChallenge:
    """Check ``code`` against the newest challenge of ``subject`` and use it up.

    The code must have been mailed to ``email`` (an address changed since makes it
    worthless). A wrong code counts an attempt, committed by
    :func:`~idp.unit_of_work.failure_record`; success consumes the challenge with a
    conditional UPDATE in the caller's unit of work, so a code works once.

    :raises DomainError: ``otp_invalid`` (with ``attempts_left``), ``otp_expired`` (too
        old, used, for another address, or none issued) or ``otp_dead``.
    """
    moment = now()
    challenge = latest_challenge(subject)
    max_attempts = settings.current().otp_max_attempts
    if (challenge is None or challenge.consumed_at is not None
            or challenge.expires_at <= moment or challenge.email != email):
        raise DomainError("otp_expired", field="code")
    return otp.spend(EmailChallenge, challenge, code, _PURPOSE, max_attempts, moment)
