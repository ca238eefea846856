"""One-time SMS code challenges, registration drafts and the SMS outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class OtpChallenge(Base):
    """A 6-digit code sent by SMS. Only an HMAC of the code is stored.

    A phantom challenge (no ``mobile``, an HMAC no code has) stands in for a code that
    was never sent, so a request without an account is checked like a real one.
    """

    __tablename__ = "otp_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))  # registration | recovery | mobile_change
    mobile: Mapped[str] = mapped_column(String(11), index=True)  # "" for a phantom
    subject: Mapped[str] = mapped_column(String(64), index=True)  # draft id, user id …
    code_hmac: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]
    resend_after: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class OtpThrottle(Base):
    """When the next code of a purpose may be sent to a mobile: one row per (purpose,
    mobile), claimed with a conditional UPDATE so concurrent requests on several app
    instances send one code. Per purpose, so a registration code does not hold back the
    recovery code of the same mobile."""

    __tablename__ = "otp_throttles"

    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), primary_key=True)
    next_send_at: Mapped[datetime]


class LoginThrottle(Base):
    """Wrong-password counter for a typed code that has no account (keyed hash of the code).

    Unknown codes lock exactly like accounts do, so the lockout message never tells
    whether an account exists.
    """

    __tablename__ = "login_throttles"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class RegistrationDraft(Base):
    """The wizard's server-side state; the browser holds only a random key (hashed here)."""

    __tablename__ = "registration_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_type: Mapped[str] = mapped_column(String(8))
    id_code: Mapped[str | None] = mapped_column(String(12))
    mobile: Mapped[str | None] = mapped_column(String(11))
    mobile_verified_at: Mapped[datetime | None]
    step: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SmsMessage(Base):
    """The outbox SMS gateway: every message the IdP sent, readable by a CLI and by tests."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    text: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaptchaChallenge(Base):
    """A CAPTCHA shown on a form: answered once (the row is deleted by the answer), then gone.

    The answer is kept as it is: the image and the audio are drawn from it on request, it
    opens nothing by itself, and the row lives ``CAPTCHA_TTL`` seconds.
    """

    __tablename__ = "captcha_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, in the page
    answer: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(index=True)
