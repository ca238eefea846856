"""The citizen's email address: change it, prove it with a mailed code, tell its status.

``users.email_verified_at`` is set only by a code mailed to the address (here or in
registration step 3) and cleared whenever the address changes; the ``email_verified``
claim reads it. Proving the address is never required: a citizen whose mail is slow
finishes registration and verifies later from the account page.
"""

from __future__ import annotations

from .. import audit
from ..errors import DomainError
from ..extensions import now
from ..models import User
from ..security import email_codes
from ..unit_of_work import transactional


def subject(user: User) -> str:
    """The code subject of a citizen's address (a registration draft has its own)."""
    return f"user:{user.id}"


def is_verified(user: User) -> bool:
    return bool(user.email) and user.email_verified_at is not None


@transactional
def change(user: User, email: str, ip: str | None = None) -> bool:
    """Store a new address (normalised and checked by the form), unverified, and mail it
    a code. An empty ``email`` removes the address. Returns whether a code was mailed
    (not when the resend delay or the hourly cap holds it back: the citizen may ask
    again from the account page)."""
    if (user.email or "") == email:
        return False
    user.email = email or None
    user.email_verified_at = None
    audit.record("email_changed", user_id=user.id, ip=ip)
    if not email:
        return False
    try:
        email_codes.issue_code(subject(user), email)
    except DomainError:
        return False  # refused before writing anything: the change itself stands
    return True


@transactional
def send_code(user: User) -> None:
    """Mail a new code to the citizen's current, unverified address.

    :raises DomainError: ``email_missing``, ``email_already_verified``,
        ``otp_resend_too_soon`` or ``email_hourly_limit``.
    """
    if not user.email:
        raise DomainError("email_missing")
    if is_verified(user):
        raise DomainError("email_already_verified")
    email_codes.issue_code(subject(user), user.email)


@transactional
def confirm(user: User, code: str, ip: str | None = None) -> None:
    """Mark the citizen's address verified with the code mailed to it.

    :raises DomainError: ``email_missing``, ``otp_invalid``, ``otp_expired`` or ``otp_dead``.
    """
    if not user.email:
        raise DomainError("email_missing")
    email_codes.verify_code(subject(user), user.email, code)
    user.email_verified_at = now()
    audit.record("email_verified", user_id=user.id, ip=ip)


def seconds_until_resend(user: User) -> int:
    return email_codes.seconds_until_resend(subject(user))
