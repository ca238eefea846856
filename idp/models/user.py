"""Citizen accounts. Hashing and password policy live in ``idp.accounts``, not here."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

ID_TYPES = ("national", "fida")
STATUSES = ("active", "locked", "disabled", "deceased")


def new_subject() -> str:
    """Return a stable opaque subject identifier (never derived from the national code)."""
    return secrets.token_urlsafe(24)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), unique=True, default=new_subject)
    id_type: Mapped[str] = mapped_column(String(8))  # "national" | "fida"
    id_code: Mapped[str] = mapped_column(String(12), unique=True)  # one account per code
    mobile: Mapped[str] = mapped_column(String(11), index=True)  # canonical 09XXXXXXXXX
    email: Mapped[str | None] = mapped_column(String(254))
    email_verified_at: Mapped[datetime | None]  # set by a mailed code; reset when email changes
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    father_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(8))  # "male" | "female"
    certificate_number: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # encrypted (idp.security.totp)
    totp_confirmed_at: Mapped[datetime | None]  # set when the admin proved the enrolment
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # last accepted step: no replay
    # the citizen's choice: ask the second factor at every sign-in, not only when a portal does
    always_second_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"
