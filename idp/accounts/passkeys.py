"""A citizen's passkeys: add, list, rename, remove, and sign in or step up with one.

The ceremonies' cryptography is :mod:`idp.security.webauthn`. Each challenge is bound to
this browser by a random key kept in Flask's signed session (``session.stash``), to its
purpose and, except for a sign-in with a discoverable credential, to the account. A
refused answer uses its challenge up all the same, and is audited (committed by
:func:`~idp.unit_of_work.failure_record`).

A passkey sign-in proves possession and user verification on the device, so it stands
alone: ``amr`` ``["hwk", "user"]`` for a device-bound credential, ``["swk", "user"]`` for
a synced one (RFC 8176; backup eligibility tells them apart).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from sqlalchemy import delete, func, select

from .. import audit, settings
from ..errors import DomainError
from ..extensions import db, now
from ..models import Passkey, User
from ..security import webauthn
from ..security.hashing import purpose_key
from ..text import mask_personal_numbers
from ..unit_of_work import failure_record, transactional
from . import notices, profile, session, signin

STASH = "webauthn"
NAME_MAX = 64
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _browser_key(create: bool = False) -> str | None:
    """The random key binding challenges to this browser (made on first need)."""
    ttl = settings.current().webauthn_challenge_seconds
    key = session.unstash(STASH, ttl)
    if key is None and create:
        key = secrets.token_urlsafe(32)
    if create:
        session.stash(STASH, key)  # restarts its age with each new challenge
    return key


def user_handle(user: User) -> bytes:
    """The WebAuthn user handle of ``user``: opaque, stable, no personal data (§14.6.1)."""
    return hmac.new(purpose_key("webauthn_user"), str(user.id).encode(), hashlib.sha256).digest()


def method(passkey: Passkey) -> str:
    """The RFC 8176 method a passkey proves: ``swk`` when synced, else ``hwk``."""
    return "swk" if passkey.backup_eligible else "hwk"


def amr_of(passkey: Passkey) -> list[str]:
    return [method(passkey), "user"]


def clean_name(name: str | None) -> str:
    """Validate a passkey's name: 1 to 64 characters, no control or direction marks.

    :raises DomainError: ``passkey_name_invalid`` on field ``name``.
    """
    name = _CONTROL.sub("", unicodedata.normalize("NFC", name or "")).strip()
    if not name or len(name) > NAME_MAX:
        raise DomainError("passkey_name_invalid", field="name")
    return name


def list_passkeys(user_id: int) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.user_id == user_id)
                                   .order_by(Passkey.created_at, Passkey.id)))


def has_passkeys(user_id: int) -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Passkey)
                                  .where(Passkey.user_id == user_id)))


def _own(user: User, passkey_id: int) -> Passkey:
    row = db.session.get(Passkey, passkey_id)
    if row is None or row.user_id != user.id:  # another citizen's passkey is "not found"
        raise DomainError("passkey_not_found")
    return row


def _refuse(error: DomainError, challenge: bytes | None, event: str, **fields) -> DomainError:
    """Commit the refusal's audit row and the use of its challenge; return ``error``."""
    with failure_record():
        if challenge is not None:
            webauthn.discard_challenge(challenge)
        audit.record(event, **fields)
    return error


# --- registration (the account page) -------------------------------------------------

@transactional
def registration_options(user: User) -> dict:
    """Options to create a passkey for ``user`` (their passkeys excluded).

    :raises DomainError: ``passkeys_too_many``.
    """
    existing = list_passkeys(user.id)
    limit = settings.current().passkeys_max_per_user
    if len(existing) >= limit:
        raise DomainError("passkeys_too_many", max=limit)
    challenge = webauthn.new_challenge(webauthn.REGISTER, user.id, _browser_key(create=True))
    return webauthn.registration_options(
        user_handle=user_handle(user), user_name=mask_personal_numbers(user.id_code),
        display_name=user.full_name or mask_personal_numbers(user.id_code),
        exclude=[(p.credential_id, p.transports or []) for p in existing],
        challenge=challenge)


@transactional
def register(user: User, credential: dict, name: str | None, ip: str | None = None) -> Passkey:
    """Verify a new credential of ``user`` and store it as a passkey named ``name``.

    :raises DomainError: ``passkey_name_invalid``, ``passkeys_too_many``,
        ``passkey_exists`` or ``passkey_failed`` (a challenge that is unknown, used,
        expired or another browser's; an origin, rp id or flag that does not verify).
    """
    name = clean_name(name)
    challenge = None
    try:
        challenge = webauthn.consume_challenge(credential, webauthn.REGISTER, user.id,
                                               _browser_key())
        new = webauthn.verify_registration(credential, challenge)
    except webauthn.CeremonyFailed as e:
        raise _refuse(DomainError("passkey_failed"), challenge, "passkey_refused",
                      user_id=user.id, ip=ip, purpose="register", reason=e.reason[:200]) from e
    if len(list_passkeys(user.id)) >= settings.current().passkeys_max_per_user:
        raise DomainError("passkeys_too_many", max=settings.current().passkeys_max_per_user)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == new.credential_id)):
        raise DomainError("passkey_exists")
    row = Passkey(user_id=user.id, credential_id=new.credential_id, public_key=new.public_key,
                  sign_count=new.sign_count, transports=new.transports, aaguid=new.aaguid,
                  backup_eligible=new.backup_eligible, backup_state=new.backup_state,
                  name=name, created_at=now())
    db.session.add(row)
    db.session.flush()
    audit.record("passkey_added", user_id=user.id, ip=ip, passkey_id=row.id, aaguid=new.aaguid,
                 synced=new.backup_eligible)
    _on_change(user, added=True)
    return row


@transactional
def rename(user: User, passkey_id: int, name: str | None, ip: str | None = None) -> Passkey:
    """Rename one of ``user``'s passkeys.

    :raises DomainError: ``passkey_not_found`` (also for another citizen's) or
        ``passkey_name_invalid``.
    """
    row = _own(user, passkey_id)
    row.name = clean_name(name)
    audit.record("passkey_renamed", user_id=user.id, ip=ip, passkey_id=row.id)
    return row


@transactional
def remove(user: User, passkey_id: int, password: str, ip: str | None = None) -> None:
    """Remove one of ``user``'s passkeys once the password is typed again.

    The password is checked like a sign-in: wrong ones count towards the lockout.

    :raises DomainError: ``passkey_not_found``, ``current_password_wrong`` (field
        ``password``) or ``account_temporarily_locked`` (the caller ends the session).
    """
    row = _own(user, passkey_id)
    profile.check_current_password(user, password, event="passkey_remove_failed",
                                   field="password", ip=ip)
    db.session.execute(delete(Passkey).where(Passkey.id == row.id))
    audit.record("passkey_removed", user_id=user.id, ip=ip, passkey_id=passkey_id)
    _on_change(user, added=False)


def _on_change(user: User, added: bool) -> None:
    """Tell the citizen a passkey was added or removed (in this unit of work): an SMS, or
    a mail to a verified address."""
    notices.factor_changed(user, "passkey", added)


# --- sign-in with a passkey alone (/login) --------------------------------------------

@transactional
def sign_in_options() -> dict:
    """Options for a sign-in with a discoverable credential (no account named yet)."""
    challenge = webauthn.new_challenge(webauthn.SIGN_IN, None, _browser_key(create=True))
    return webauthn.authentication_options(allow=[], challenge=challenge)


@transactional
def authenticate(credential: dict, ip: str | None = None) -> tuple[User, list[str]]:
    """Check a sign-in assertion; return the account and the ``amr`` it proves.

    An account blocked by an operator, disabled or deceased is refused as at the password
    sign-in; a temporary lockout (wrong passwords) does not stop a passkey, which cannot
    be guessed. The caller starts the session in the same unit of work.

    :raises DomainError: ``passkey_failed``, ``account_locked``, ``account_disabled`` or
        ``account_deceased``.
    """
    row, challenge = _verify(credential, webauthn.SIGN_IN, None, ip)
    user = db.session.get(User, row.user_id)
    if user.status in signin.BLOCKED_STATUSES:
        status = user.status
        raise _refuse(DomainError(signin.BLOCKED_STATUSES[status]), challenge, "login_refused",
                      user_id=user.id, ip=ip, reason=status, method="passkey")
    audit.record("login_ok", user_id=user.id, ip=ip, method="passkey", passkey_id=row.id)
    return user, amr_of(row)


# --- a passkey as a further step (steps/passkey.py) ----------------------------------

@transactional
def step_options(user: User) -> dict:
    """Options to prove one of ``user``'s passkeys (they are listed to the browser)."""
    challenge = webauthn.new_challenge(webauthn.STEP, user.id, _browser_key(create=True))
    return webauthn.authentication_options(
        allow=[(p.credential_id, p.transports or []) for p in list_passkeys(user.id)],
        challenge=challenge)


@transactional
def verify_step(user: User, credential: dict, ip: str | None = None) -> str:
    """Check an assertion by one of ``user``'s passkeys; return its method (hwk/swk).

    :raises DomainError: ``passkey_failed``.
    """
    row, _ = _verify(credential, webauthn.STEP, user.id, ip)
    audit.record("passkey_step_ok", user_id=user.id, ip=ip, passkey_id=row.id)
    return method(row)


def _verify(credential: dict, purpose: str, user_id: int | None,
            ip: str | None) -> tuple[Passkey, bytes]:
    """Use the challenge up, find the passkey, verify the assertion and its counter,
    and record the use; refusals are audited as ``passkey_refused``."""
    challenge, row = None, None

    def refused(reason: str, event: str = "passkey_refused") -> DomainError:
        return _refuse(DomainError("passkey_failed"), challenge, event, ip=ip, purpose=purpose,
                       user_id=row.user_id if row is not None else user_id, reason=reason[:200],
                       passkey_id=row.id if row is not None else None)

    try:
        challenge = webauthn.consume_challenge(credential, purpose, user_id, _browser_key())
        raw_id, handle = webauthn.credential_id_of(credential)
    except webauthn.CeremonyFailed as e:
        raise refused(e.reason) from e
    row = db.session.scalar(select(Passkey).where(Passkey.credential_id == raw_id))
    if row is None or (user_id is not None and row.user_id != user_id):
        row = None
        raise refused("unknown credential")
    owner = db.session.get(User, row.user_id)
    if handle is not None and not hmac.compare_digest(handle, user_handle(owner)):
        raise refused("user handle of another account")
    try:
        result = webauthn.verify_assertion(credential, challenge, row.public_key)
    except webauthn.CeremonyFailed as e:
        raise refused(e.reason) from e
    if webauthn.counter_went_back(row.sign_count, result.sign_count):
        # A cloned authenticator may be in use: refuse, and say so at SECURITY level.
        raise refused(f"counter {result.sign_count} after {row.sign_count}",
                      event="passkey_counter_regressed")
    row.sign_count = result.sign_count
    row.backup_eligible, row.backup_state = result.backup_eligible, result.backup_state
    row.last_used_at = now()
    return row, challenge

