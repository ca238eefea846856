"""What each registration step checks and does. Never touches request, flash or templates.

Every refusal is a :class:`DomainError` whose code has a Persian message in
``idp.messages`` (registration section). Registry answers are used, never shown: a
mismatch names the field to re-check, not the registry's value.

Transactions: each step is one unit of work (:mod:`idp.unit_of_work`). A refused step
changes nothing but what must outlive the refusal, written by ``failure_record``: the
registry inquiry it spent (the per-draft budget) and the audit row of the refusal.
Steps 1 and 3 are two units: the confirmed code and mobile (the email) are kept even when
the SMS code (the mailed code) cannot be sent yet (the code page offers a resend). The
last step creates the account, its audit row and the welcome SMS in one unit: with the
outbox gateway the message row commits with the account or not at all. The HTTP gateway
cannot take a message back, so the welcome SMS is the unit's last write, after every check
and flush that could still refuse the account; only a failing COMMIT could then leave a
welcome SMS without its account, and a gateway failure (``SmsUnavailable``) is logged
without undoing the account.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from .. import audit, metrics, settings
from ..accounts.passwords import check_password_rules, hash_password
from ..errors import DomainError
from ..extensions import db, now
from ..identity import Status, compare_with_record, registry
from ..models import RegistrationDraft, User
from ..security import email_codes, otp
from ..sms import SmsUnavailable, send_template
from ..text import mask_personal_numbers, normalize_email
from ..unit_of_work import failure_record, transactional
from . import wizard

logger = logging.getLogger("idp.registration")

OTP_PURPOSE = "registration"


def _subject(draft: RegistrationDraft) -> str:
    # The key hash is random and never reused (row ids can be, after a delete on SQLite).
    return f"draft:{draft.key_hash[:40]}"


def account_exists(id_code: str) -> bool:
    return db.session.scalar(select(User.id).where(User.id_code == id_code)) is not None


def _registry_budget(draft: RegistrationDraft) -> int:
    """Refuse when the draft used up its registry inquiries (each is an identity oracle
    and costs money); return how many were used."""
    used = int((draft.data or {}).get("checks", 0))
    if used >= settings.current().registration_max_registry_checks:
        metrics.registration_refusals.labels("registration_too_many_checks").inc()
        raise DomainError("registration_too_many_checks")
    return used


def _refused(draft: RegistrationDraft, error: DomainError, event: str | None = None,
             **fields) -> DomainError:
    """Record a refused step and return ``error`` for the caller to raise.

    The step's other writes are dropped; the registry inquiries as the step counted them
    (``checks``) and the audit row ``event`` (with ``fields``) are committed.
    """
    metrics.registration_refusals.labels(error.code).inc()
    checks = (draft.data or {}).get("checks", 0)
    id_type, id_code = draft.id_type, draft.id_code
    with failure_record():
        wizard.save(draft, checks=checks)
        if event is not None:
            audit.record(event, id_type=id_type,
                         id_code=mask_personal_numbers(id_code or ""), **fields)
    return error


def _registry_refusal(status: Status, field: str | None, mismatch_code: str, draft, ip,
                      event) -> DomainError:
    """Turn a non-MATCH registry answer into the error the citizen sees (audited)."""
    if status is Status.UNAVAILABLE:
        return DomainError("identity_unavailable")
    if status is Status.DECEASED:
        error = DomainError("registration_not_possible")
    elif status is Status.INVALID_INPUT:
        error = DomainError(f"{draft.id_type}_code_invalid", field="id_code")
    else:
        error = DomainError(mismatch_code, field=field)
    return _refused(draft, error, event, ip=ip, result=status.value)


@transactional
def choose_type(draft: RegistrationDraft, id_type: str) -> None:
    """Step 0 again: a changed user type starts the draft over (keeping ``next``)."""
    if id_type != draft.id_type:
        draft.id_type, draft.id_code, draft.mobile, draft.mobile_verified_at = (
            id_type, None, None, None)
        draft.data = {k: v for k, v in (draft.data or {}).items() if k in ("next", "checks")}
    wizard.save(draft, step=1)


def submit_code_and_mobile(draft: RegistrationDraft, id_code: str, mobile: str,
                           ip: str | None = None) -> bool:
    """Step 1: check the code and mobile, then send the SMS code.

    Returns ``False`` when nothing changed since the mobile was proven (go on to step
    2 without a new code), ``True`` when the code page comes next.

    :raises DomainError: ``registration_account_exists``, ``registration_mobile_not_owned``,
        ``registration_not_possible``, ``identity_unavailable``,
        ``registration_too_many_checks``; or, once ownership is confirmed and the code
        page is next anyway, ``otp_resend_too_soon``/``otp_hourly_limit``/``sms_unavailable``.
    """
    if not _confirm_code_and_mobile(draft, id_code, mobile, ip):
        return False
    # A unit of its own: a code that cannot be sent now leaves the confirmed draft on
    # the code page, which offers a resend.
    otp.issue_code(OTP_PURPOSE, _subject(draft), mobile)
    return True


@transactional
def _confirm_code_and_mobile(draft: RegistrationDraft, id_code: str, mobile: str,
                             ip: str | None) -> bool:
    """Check that ``mobile`` belongs to ``id_code`` and that it has no account yet; return
    ``False`` when the draft already proved this mobile (step 2 is next)."""
    if (draft.id_code, draft.mobile) == (id_code, mobile) and draft.mobile_verified_at:
        wizard.save(draft, step=2)
        return False
    used = _registry_budget(draft)
    answer = registry().verify_mobile_owner(draft.id_type, id_code, mobile)
    if answer.status is not Status.UNAVAILABLE:
        wizard.save(draft, checks=used + 1)
    draft.id_code, draft.mobile, draft.mobile_verified_at = id_code, mobile, None
    if not answer.ok:
        raise _registry_refusal(answer.status, "mobile", "registration_mobile_not_owned",
                                draft, ip, "registration_mobile_refused")
    # Only now, to someone who knows the code's own mobile: otherwise step 1 would tell
    # anybody which codes are registered (recovery is careful to keep that secret).
    if account_exists(id_code):
        raise _refused(draft, DomainError("registration_account_exists", field="id_code"))
    wizard.save(draft, code_sent=True)
    return True


@transactional
def resend_code(draft: RegistrationDraft) -> None:
    """Send a new SMS code to the draft's mobile (limits of :mod:`idp.security.otp`)."""
    if not draft.mobile or not (draft.data or {}).get("code_sent"):
        raise DomainError("registration_restart")
    otp.issue_code(OTP_PURPOSE, _subject(draft), draft.mobile)


def code_sent(draft: RegistrationDraft) -> bool:
    """Whether a code was ever sent to the draft's current mobile (it may have expired).

    ``False`` after the only send the gateway refused: then the page must not say that a
    code was sent, only offer to send one.
    """
    challenge = otp.latest_challenge(OTP_PURPOSE, _subject(draft))
    return challenge is not None and challenge.mobile == draft.mobile


def seconds_until_resend(draft: RegistrationDraft) -> int:
    return otp.seconds_until_resend(OTP_PURPOSE, draft.mobile) if draft.mobile else 0


@transactional
def verify_mobile_code(draft: RegistrationDraft, code: str) -> None:
    """Step 1, second half: the SMS code proves the citizen holds the mobile → step 2.

    :raises DomainError: ``otp_invalid`` / ``otp_expired`` / ``otp_dead``.
    """
    challenge = otp.verify_code(OTP_PURPOSE, _subject(draft), code)
    if challenge.mobile != draft.mobile:  # the number was edited after this code was sent
        raise DomainError("otp_expired", field="code")
    draft.mobile_verified_at = now()
    wizard.save(draft, step=2, code_sent=None)


@transactional
def edit_mobile(draft: RegistrationDraft) -> None:
    """Leave the code page to correct the code or the mobile."""
    wizard.save(draft, code_sent=None)


@transactional
def check_person(draft: RegistrationDraft, person: dict, ip: str | None = None) -> None:
    """Step 2: compare the birth-certificate data with the civil registry → step 3.

    ``person`` holds normalised ``first_name``, ``last_name``, ``father_name``,
    ``certificate_number``, ``birth_date`` (a Gregorian date) and ``gender``.

    :raises DomainError: ``registration_birth_date_mismatch`` (field ``birth_date``), one
        ``registration_mismatch`` listing the fields in ``fields``, ``identity_unavailable``
        (the draft and the typed values are kept), ``registration_not_possible``,
        ``registration_too_many_checks``.
    """
    used = _registry_budget(draft)
    answer = registry().lookup_identity(draft.id_type, draft.id_code, person["birth_date"])
    if answer.status is not Status.UNAVAILABLE:
        wizard.save(draft, checks=used + 1)
    if not answer.ok:
        raise _registry_refusal(answer.status, "birth_date", "registration_birth_date_mismatch",
                                draft, ip, "registration_identity_refused")
    fields = compare_with_record(answer.record, **person)
    if fields:
        raise _refused(draft, DomainError("registration_mismatch", fields=fields),
                       "registration_identity_refused", ip=ip, result="MISMATCH",
                       fields=fields)
    stored = {**person, "birth_date": person["birth_date"].isoformat()}
    wizard.save(draft, step=3, person=stored)


def _email_subject(draft: RegistrationDraft) -> str:
    return f"draft:{draft.id}"


def set_email(draft: RegistrationDraft, email: str) -> bool:
    """Step 3: keep the (already syntax-checked) email and mail it a code; the page then
    asks for the code, or «بعداً» moves on unverified (the account page verifies later).

    Two units: the address is kept even when no code can be mailed yet (the code page
    offers a resend). An address this draft already proved moves straight to step 4.
    Returns whether the code page follows.

    :raises DomainError: ``otp_resend_too_soon`` or ``email_hourly_limit`` (the address is
        kept and the code page shown).
    """
    email = normalize_email(email)
    if _keep_email(draft, email):
        return False
    send_email_code(draft)
    return True


@transactional
def _keep_email(draft: RegistrationDraft, email: str) -> bool:
    if (draft.data or {}).get("email_verified") == email:
        wizard.save(draft, step=4, email=email, email_code_sent=None)
        return True
    wizard.save(draft, email=email, email_code_sent=True, email_verified=None)
    return False


@transactional
def send_email_code(draft: RegistrationDraft) -> None:
    """Mail a (new) code to the draft's address (limits of :mod:`idp.security.email_codes`)."""
    data = draft.data or {}
    if not data.get("email") or not data.get("email_code_sent"):
        raise DomainError("registration_restart")
    email_codes.issue_code(_email_subject(draft), data["email"])


def email_resend_wait(draft: RegistrationDraft) -> int:
    return email_codes.seconds_until_resend(_email_subject(draft))


@transactional
def verify_email_code(draft: RegistrationDraft, code: str) -> None:
    """Step 3, second half: the mailed code proves the address → step 4.

    :raises DomainError: ``otp_invalid`` / ``otp_expired`` / ``otp_dead``.
    """
    email = (draft.data or {}).get("email") or ""
    email_codes.verify_code(_email_subject(draft), email, code)
    wizard.save(draft, step=4, email_verified=email, email_code_sent=None)


@transactional
def skip_email_verification(draft: RegistrationDraft) -> None:
    """«بعداً»: go on to step 4 with the address unverified."""
    wizard.save(draft, step=4, email_code_sent=None)


@transactional
def edit_email(draft: RegistrationDraft) -> None:
    """Leave the code page to correct the address."""
    wizard.save(draft, email_code_sent=None)


@transactional
def set_password(draft: RegistrationDraft, password: str) -> None:
    """Step 4: check the password rules and keep only its hash → step 5.

    :raises DomainError: ``password_rules`` with every broken rule in ``codes``.
    """
    broken = check_password_rules(password, draft.id_code or "")
    if broken:
        raise DomainError("password_rules", field="new_password", codes=broken)
    wizard.save(draft, step=5, password_hash=hash_password(password))


@transactional
def back_to_password(draft: RegistrationDraft) -> None:
    """From the review back to step 4; the password must be typed again."""
    wizard.save(draft, step=4, password_hash=None)


def review(draft: RegistrationDraft) -> dict:
    """The values step 5 shows (all typed by the citizen; nothing from the registry)."""
    data = draft.data or {}
    person = dict(data.get("person", {}))
    if person:
        person["birth_date"] = date.fromisoformat(person["birth_date"])
    return {**person, "id_type": draft.id_type, "id_code": draft.id_code,
            "mobile": draft.mobile, "email": data.get("email")}


def complete(draft: RegistrationDraft, ip: str | None = None) -> User | None:
    """Step 5: create the account, atomically, and send the welcome SMS.

    The draft is claimed with a conditional DELETE in the same unit of work as the new
    user row, its audit row and the welcome SMS, and ``users.id_code`` is unique: two
    confirmations racing for one code create one account and the other gets
    ``registration_account_exists``; on any error nothing is written but the audit row
    of a duplicate. Returns ``None`` when this draft was already used (a double submit).

    :raises DomainError: ``registration_account_exists`` or ``registration_restart``
        (the draft lacks a step's data).
    """
    id_type, id_code = draft.id_type, draft.id_code
    try:
        return _create_account(draft, ip)
    except IntegrityError:
        with failure_record():
            audit.record("registration_duplicate", ip=ip, id_type=id_type,
                         id_code=mask_personal_numbers(id_code))
        raise DomainError("registration_account_exists") from None


@transactional
def _create_account(draft: RegistrationDraft, ip: str | None) -> User | None:
    """Claim the draft and create its account with its audit row and welcome SMS."""
    data = draft.data or {}
    values = review(draft)
    if not (draft.mobile_verified_at and values.get("first_name") and values.get("email")
            and data.get("password_hash")):
        raise DomainError("registration_restart")
    moment = now()
    user = User(
        id_type=draft.id_type, id_code=draft.id_code, mobile=draft.mobile,
        email=values["email"], first_name=values["first_name"], last_name=values["last_name"],
        father_name=values["father_name"], birth_date=values["birth_date"],
        gender=values["gender"], certificate_number=values["certificate_number"],
        password_hash=data["password_hash"], password_changed_at=moment, status="active",
        email_verified_at=moment if data.get("email_verified") == values["email"] else None,
        created_at=moment, updated_at=moment)
    claimed = db.session.execute(delete(RegistrationDraft).where(
        RegistrationDraft.id == draft.id)).rowcount
    if claimed != 1:
        return None
    db.session.add(user)
    db.session.flush()
    audit.record("registration_completed", user_id=user.id, ip=ip, id_type=user.id_type)
    _welcome(user)
    return user


def _welcome(user: User) -> None:
    """Send the welcome SMS (docs/FLOWS.md, "The welcome SMS") in the account's unit of
    work; a gateway failure does not undo the registration."""
    title = "خانم" if user.gender == "female" else "آقای"
    try:
        send_template(user.mobile, "welcome", title=title, name=user.full_name)
    except SmsUnavailable:
        logger.warning("welcome SMS for user %s not sent", user.id)
