"""A second factor: TOTP (RFC 6238) with one-time recovery codes.

The TOTP secret is stored encrypted (Fernet, key ``ADMIN_TOTP_SECRET`` or one derived
from ``HASH_KEY``) and shown only on the enrolment page, before it is confirmed.
Recovery codes are shown once, at enrolment, and stored as keyed hashes. A code is
accepted once: the time step of the last accepted TOTP code is kept, and a recovery code
is spent by a conditional UPDATE.

Wrong codes are counted per account in the audit trail, so signing in again buys no new
guesses (``ADMIN_TOTP_MAX_FAILURES`` within ``ADMIN_TOTP_LOCKOUT_SECONDS``, for admins and
citizens alike). Admins' rows are ``admin_totp_failed``/``admin_signed_in``/
``admin_totp_enrolled``; citizens' are ``totp_failed``/``second_factor_passed``/
``totp_enrolled``, and the caller may also count a citizen's wrong code into the password
lockout (``count_failure``). Nothing here knows about SSO sessions: the step that asks for
the code decides what a success or ``totp_too_many`` does to the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple, NoReturn

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from .. import audit, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import AdminRecoveryCode, AuditEvent, User
from ..text import normalize_digits
from ..unit_of_work import failure_record, transactional
from .hashing import keyed_hash, purpose_key

DIGITS = 6
INTERVAL = 30
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


class _Events(NamedTuple):
    failed: str
    passed: str  # also where the count of wrong codes starts again
    enrolled: str


_ADMIN_EVENTS = _Events("admin_totp_failed", "admin_signed_in", "admin_totp_enrolled")
_CITIZEN_EVENTS = _Events("totp_failed", "second_factor_passed", "totp_enrolled")


def _events(user: User) -> _Events:
    return _ADMIN_EVENTS if user.is_admin else _CITIZEN_EVENTS


@dataclass
class Enrolment:
    """What the enrolment page shows once: the QR code and the secret for manual entry."""

    secret: str
    uri: str
    qr_data_uri: str


def _fernet() -> Fernet:
    key = hashlib.sha256(purpose_key("admin_totp")).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def _secret_of(user: User) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        # The key changed (ADMIN_TOTP_SECRET or HASH_KEY replaced): the admin must
        # be re-enrolled with ``flask users grant-admin CODE --reset-totp``.
        current_app.logger.error("cannot decrypt the TOTP secret of user %s", user.id)
        return None


def is_enrolled(user: User) -> bool:
    """Tell whether ``user`` has a confirmed TOTP secret."""
    return bool(user.totp_secret and user.totp_confirmed_at)


@transactional
def start_enrolment(user: User) -> Enrolment:
    """Give ``user`` a fresh, unconfirmed TOTP secret and return how to show it.

    Each call replaces the unconfirmed secret, so a secret is never shown twice.

    :raises DomainError: ``totp_already_enrolled`` once enrolment was confirmed.
    """
    if is_enrolled(user):
        raise DomainError("totp_already_enrolled")
    secret = pyotp.random_base32(32)  # 160 bits (RFC 4226 §4 recommends at least that)
    user.totp_secret = _fernet().encrypt(secret.encode()).decode()
    user.totp_confirmed_at = None
    user.totp_last_step = None
    return _enrolment(user, secret)


def pending_enrolment(user: User) -> Enrolment | None:
    """Return the unconfirmed enrolment again (the form was sent with a wrong code)."""
    secret = None if is_enrolled(user) else _secret_of(user)
    return _enrolment(user, secret) if secret else None


def _enrolment(user: User, secret: str) -> Enrolment:
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=user.id_code, issuer_name=settings.current().brand_system)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    return Enrolment(secret=secret, uri=uri, qr_data_uri=qr)


@transactional
def confirm_enrolment(user: User, code: str, ip: str | None = None) -> list[str]:
    """Confirm the pending secret with a code from the app; return new recovery codes.

    The code counts as the second factor of this sign-in (``admin_signed_in`` with
    method ``totp`` is recorded) in the caller's unit of work; a wrong code is recorded
    by :func:`~idp.unit_of_work.failure_record`.

    :raises DomainError: ``totp_already_enrolled``, ``totp_not_enrolled`` (no pending
        secret), ``totp_invalid`` or ``totp_too_many``.
    """
    if is_enrolled(user):
        raise DomainError("totp_already_enrolled")
    secret = _secret_of(user)
    if secret is None:
        raise DomainError("totp_not_enrolled")
    _check_not_locked(user)
    if not _accept_totp(user, secret, code):
        _failed(user, ip)
    user.totp_confirmed_at = now()
    codes = _new_recovery_codes(user)
    events = _events(user)
    audit.record(events.enrolled, user_id=user.id, actor_id=user.id, ip=ip)
    audit.record(events.passed, user_id=user.id, actor_id=user.id, ip=ip, method="totp")
    return codes


@transactional
def verify(user: User, code: str, ip: str | None = None, *, count_failure=None) -> str:
    """Check a second-factor code: a TOTP code or an unused recovery code.

    Returns the method used (``"totp"`` or ``"recovery"``), recorded with
    ``admin_signed_in`` in the caller's unit of work. A wrong code is recorded by
    :func:`~idp.unit_of_work.failure_record`, so it counts although the step fails.
    Once ``ADMIN_TOTP_MAX_FAILURES`` wrong codes were given within
    ``ADMIN_TOTP_LOCKOUT_SECONDS`` since the last success, every code is refused unseen.

    ``count_failure(user, ip, event)``, when given, records a wrong code instead (it must
    commit on its own, like :func:`idp.accounts.lockout.count_failure`) and returns the
    error to raise when that failure locked the account, else ``None``.

    :raises DomainError: ``totp_not_enrolled``, ``totp_invalid``, ``totp_too_many`` or
        what ``count_failure`` returns.
    """
    secret = _secret_of(user) if is_enrolled(user) else None
    if secret is None:
        raise DomainError("totp_not_enrolled")
    _check_not_locked(user)
    code = normalize_digits(code).lower().replace("-", "")
    if len(code) == DIGITS and code.isascii() and code.isdigit():
        method = "totp" if _accept_totp(user, secret, code) else None
    else:
        method = "recovery" if _spend_recovery_code(user, code) else None
    if method is None:
        _failed(user, ip, count_failure)
    audit.record(_events(user).passed, user_id=user.id, actor_id=user.id, ip=ip, method=method)
    return method


def _accept_totp(user: User, secret: str, code: str) -> bool:
    """Accept a code of the current, previous or next 30 s step, each step at most once."""
    code = normalize_digits(code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = totp.timecode(now())
    for step in (current - 1, current, current + 1):  # clock drift of the phone
        if hmac.compare_digest(totp.generate_otp(step), code):
            # Conditional UPDATE: a code (or an older one) already used is refused, even
            # by two requests racing each other.
            result = db.session.execute(
                update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None),
                                                           User.totp_last_step < step))
                .values(totp_last_step=step).execution_options(synchronize_session=False))
            return result.rowcount == 1
    return False


def _recent_failures(user: User) -> int:
    """Count the wrong codes of ``user`` since the last success, within the lockout window.

    Counted per account, not per sign-in, so signing in again buys no new guesses.
    """
    window = settings.current().admin_totp_lockout_seconds
    events = _events(user)
    last_success = db.session.scalar(select(func.max(AuditEvent.id)).where(
        AuditEvent.event == events.passed, AuditEvent.user_id == user.id))
    return db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.event == events.failed, AuditEvent.user_id == user.id,
        AuditEvent.id > (last_success or 0),
        AuditEvent.created_at >= now() - timedelta(seconds=window)))


def _too_many() -> NoReturn:
    minutes = -(-settings.current().admin_totp_lockout_seconds // 60)
    raise DomainError("totp_too_many", minutes=minutes)


def _check_not_locked(user: User) -> None:
    """Refuse the step without looking at the code while the account is locked out.

    :raises DomainError: ``totp_too_many``.
    """
    if _recent_failures(user) >= settings.current().admin_totp_max_failures:
        _too_many()


def _failed(user: User, ip: str | None, count_failure=None) -> NoReturn:
    user_id, event = user.id, _events(user).failed
    locked = None
    if count_failure is not None:
        locked = count_failure(user, ip, event)
    else:
        with failure_record():
            audit.record(event, user_id=user_id, ip=ip)
    if _recent_failures(user) >= settings.current().admin_totp_max_failures:
        _too_many()
    raise locked or DomainError("totp_invalid", field="code")


def _hash_recovery(code: str) -> str:
    return keyed_hash(code, "admin_recovery_code")


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(AdminRecoveryCode).where(AdminRecoveryCode.user_id == user.id))
    codes = []
    for _ in range(settings.current().admin_recovery_codes):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))  # ~49 bits
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(AdminRecoveryCode(user_id=user.id, code_hash=_hash_recovery(raw),
                                         created_at=now()))
    return codes


def _spend_recovery_code(user: User, code: str) -> bool:
    result = db.session.execute(
        update(AdminRecoveryCode)
        .where(AdminRecoveryCode.user_id == user.id, AdminRecoveryCode.used_at.is_(None),
               AdminRecoveryCode.code_hash == _hash_recovery(code))
        .values(used_at=now()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def recovery_codes_left(user: User) -> int:
    """Return how many unused recovery codes ``user`` has."""
    return db.session.scalar(select(func.count(AdminRecoveryCode.id)).where(
        AdminRecoveryCode.user_id == user.id, AdminRecoveryCode.used_at.is_(None)))


def reset(user: User) -> None:
    """Forget the second factor of ``user`` (the next sign-in that needs it enrols again)
    in the caller's unit of work."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.execute(delete(AdminRecoveryCode).where(AdminRecoveryCode.user_id == user.id))
