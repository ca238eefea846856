"""Password-recovery requests (فراموشی گذرواژه): the server-side state of the three steps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class RecoveryRequest(Base):
    """One recovery attempt. The browser holds only a random key; its SHA-256 is here.

    A request is made for every well-formed code, with or without an account
    (``user_id`` is then empty), so both answer alike. ``code_hash`` is a keyed hash of
    the typed code, for the per-code send limits.
    """

    __tablename__ = "recovery_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    next_url: Mapped[str | None] = mapped_column(String(2000))
    sends: Mapped[int] = mapped_column(Integer, default=1)
    sent_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
