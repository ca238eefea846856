"""One-time SMS codes: issue, throttle and verify.

A code is 6 digits from :mod:`secrets`, stored only as an HMAC (``keyed_hash(code,
"otp")``; a plain hash of six digits falls to brute force), valid for ``OTP_TTL``
seconds, dead after ``OTP_MAX_ATTEMPTS`` wrong tries and usable once. Only the newest
code of a ``(purpose, subject)`` counts. A mobile gets a new code of a purpose only
``OTP_RESEND_AFTER`` seconds after the previous one of that purpose (a registration code
does not delay a recovery code), and at most ``OTP_HOURLY_LIMIT`` codes of any purpose in
any hour.

Every limit is enforced by the database (a conditional ``UPDATE`` on the ``(purpose,
mobile)`` row of ``otp_throttles``, counts of ``otp_challenges`` rows, a conditional ``UPDATE`` to
consume), so several app instances share them and concurrent requests cannot slip past.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import mail, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import OtpChallenge, OtpThrottle
from ..sms import send_template
from ..text import normalize_digits
from ..unit_of_work import failure_record, transactional
from .hashing import keyed_hash, matches

CODE_LENGTH = 6


def new_code() -> str:
    """A fresh random code of ``CODE_LENGTH`` digits (SMS and mailed codes alike)."""
    return f"{secrets.randbelow(10 ** CODE_LENGTH):0{CODE_LENGTH}d}"


def issuer_host() -> str:
    """The host of the issuer, as the WebOTP line needs it (``@host #code``)."""
    return urlsplit(settings.current().issuer).hostname or "localhost"


def _claim_send_slot(purpose: str, mobile: str, moment: datetime) -> None:
    """Take the right to send a ``purpose`` code to ``mobile`` now, or raise why not.

    The conditional UPDATE both checks and moves ``next_send_at``; on PostgreSQL a
    concurrent request waits for the row lock and then finds the slot taken.
    """
    next_at = moment + timedelta(seconds=settings.current().otp_resend_after)
    claim = (update(OtpThrottle)
             .where(OtpThrottle.purpose == purpose, OtpThrottle.mobile == mobile,
                    OtpThrottle.next_send_at <= moment)
             .values(next_send_at=next_at)
             .execution_options(synchronize_session=False))
    if db.session.execute(claim).rowcount == 1:
        return
    key = (purpose, mobile)
    row = db.session.get(OtpThrottle, key, populate_existing=True)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(OtpThrottle(purpose=purpose, mobile=mobile, next_send_at=next_at))
            return
        except IntegrityError:
            row = db.session.get(OtpThrottle, key, populate_existing=True)
    wait = (row.next_send_at - moment).total_seconds() if row is not None else 1
    raise DomainError("otp_resend_too_soon", seconds=max(1, math.ceil(wait)))


def seconds_until_resend(purpose: str, mobile: str) -> int:
    """Seconds until ``mobile`` may get a new ``purpose`` code (0: now). For countdowns."""
    row = db.session.get(OtpThrottle, (purpose, mobile))
    if row is None:
        return 0
    return max(0, math.ceil((row.next_send_at - now()).total_seconds()))


@transactional
def issue_code(purpose: str, subject: str, mobile: str,
               copy_to_email: str | None = None) -> OtpChallenge:
    """Create a code for ``(purpose, subject)`` and send it to ``mobile``.

    The SMS is rendered from ``templates/sms/otp_<purpose>.txt`` (or ``otp.txt``); its
    last line is the WebOTP line ``@<issuer host> #<code>`` so phones offer to fill it.
    Older codes of the same ``(purpose, subject)`` stop counting. The SMS is sent last,
    once every limit passed.

    A refusal rolls the unit of work back: run it in its own unit when what came before
    must be kept (the unit then keeps nothing of a refused code, so the citizen may
    retry at once).

    :param subject: who the code is for, chosen by the caller (a draft id, a user id).
    :param mobile: canonical ``09XXXXXXXXX``.
    :param copy_to_email: also mail the same code there (``templates/mail/<purpose>_code.txt``),
        for a verified address; the mail joins the unit of work like the SMS.
    :raises DomainError: ``otp_resend_too_soon`` (with ``seconds``), ``otp_hourly_limit``,
        or ``sms_unavailable``.
    """
    moment = now()
    _claim_send_slot(purpose, mobile, moment)
    hour_ago = moment - timedelta(hours=1)
    sent = db.session.scalar(select(func.count(OtpChallenge.id)).where(
        OtpChallenge.mobile == mobile, OtpChallenge.created_at > hour_ago))
    if sent >= settings.current().otp_hourly_limit:
        raise DomainError("otp_hourly_limit")
    code = new_code()
    challenge = _add_challenge(purpose, subject, mobile, keyed_hash(code, "otp"), moment)
    template = f"otp_{purpose}"
    if f"sms/{template}.txt" not in current_app.jinja_env.list_templates():
        template = "otp"
    minutes = max(1, settings.current().otp_ttl // 60)
    if copy_to_email:
        mail.send_template(copy_to_email, f"{purpose}_code", code=code, minutes=minutes)
    send_template(mobile, template, code=code, host=issuer_host(), purpose=purpose,
                  minutes=minutes)
    return challenge


@transactional
def issue_phantom(purpose: str, subject: str) -> OtpChallenge:
    """Create a challenge that no code matches for ``(purpose, subject)``.

    For a request that must answer as if a code had been sent when there is nobody to
    send it to (password recovery for a code without an account): :func:`verify_code`
    treats it like any other challenge, so its expiry, attempt count and death are the
    same as a real code's. Its HMAC is of a random 256-bit string, which no 6-digit code
    has. Nothing is sent and no mobile's send limits are touched.
    """
    return _add_challenge(purpose, subject, "", keyed_hash(secrets.token_hex(32), "otp"),
                          now())


def _add_challenge(purpose: str, subject: str, mobile: str, code_hmac: str,
                   moment: datetime) -> OtpChallenge:
    cfg = settings.current()
    challenge = OtpChallenge(
        purpose=purpose, subject=str(subject), mobile=mobile, code_hmac=code_hmac,
        attempts=0, created_at=moment, expires_at=moment + timedelta(seconds=cfg.otp_ttl),
        resend_after=moment + timedelta(seconds=cfg.otp_resend_after))
    db.session.add(challenge)
    db.session.flush()
    return challenge


def latest_challenge(purpose: str, subject: str) -> OtpChallenge | None:
    """Return the newest challenge of ``(purpose, subject)``, used or not."""
    return db.session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.purpose == purpose, OtpChallenge.subject == str(subject))
        .order_by(OtpChallenge.created_at.desc(), OtpChallenge.id.desc()).limit(1))


@transactional
def verify_code(purpose: str, subject: str, code: str) -> OtpChallenge:
    """Check ``code`` against the newest challenge of ``(purpose, subject)`` and use it up.

    The code may be typed with Persian digits or spaces. Success consumes the challenge
    with a conditional UPDATE in the caller's unit of work, so a code works once even
    when two requests race, and is used up only if what it authorises is done. A wrong
    code counts an attempt, committed by :func:`~idp.unit_of_work.failure_record`.

    :raises DomainError: ``otp_invalid`` (with ``attempts_left``), ``otp_expired`` (too
        old, already used, or none issued) or ``otp_dead`` (no attempts left).
    """
    moment = now()
    challenge = latest_challenge(purpose, subject)
    max_attempts = settings.current().otp_max_attempts
    if challenge is None or challenge.consumed_at is not None or challenge.expires_at <= moment:
        raise DomainError("otp_expired", field="code")
    return spend(OtpChallenge, challenge, code, "otp", max_attempts, moment)


def spend(model, challenge, code: str, purpose: str, max_attempts: int, moment):
    """Use up the live ``challenge`` (a row of ``model``: an SMS or a mailed code) when
    ``code`` matches its keyed hash under ``purpose``; otherwise count an attempt.

    Success is a conditional UPDATE in the caller's unit of work (a code works once even
    when two requests race); a wrong code's attempt is committed by
    :func:`~idp.unit_of_work.failure_record`.

    :raises DomainError: ``otp_invalid`` (with ``attempts_left``), ``otp_expired`` or
        ``otp_dead``.
    """
    if challenge.attempts >= max_attempts:
        raise DomainError("otp_dead", field="code")
    typed = normalize_digits(code)
    live = (model.id == challenge.id, model.consumed_at.is_(None),
            model.attempts < max_attempts, model.expires_at > moment)
    if len(typed) == CODE_LENGTH and matches(typed, challenge.code_hmac, purpose):
        used = db.session.execute(update(model).where(*live).values(consumed_at=moment)
                                  .execution_options(synchronize_session=False))
        if used.rowcount != 1:
            raise DomainError("otp_expired", field="code")
        db.session.refresh(challenge)
        return challenge
    with failure_record():
        db.session.execute(update(model).where(*live)
                           .values(attempts=model.attempts + 1)
                           .execution_options(synchronize_session=False))
    db.session.refresh(challenge)
    left = max(0, max_attempts - challenge.attempts)
    if left == 0:
        raise DomainError("otp_dead", field="code")
    raise DomainError("otp_invalid", field="code", attempts_left=left)
