"""Browsers a citizen signed in from, and the sign-in history shown on the account page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class SignInRecord(Base):
    """One sign-in (a new SSO session). ``device_hash`` is the SHA-256 of the browser's
    device cookie; the IP is kept only as its prefix (/24 IPv4, /48 IPv6)."""

    __tablename__ = "sign_ins"
    __table_args__ = (Index("ix_sign_ins_user_device", "user_id", "device_hash"),
                      Index("ix_sign_ins_user_created", "user_id", "created_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_hash: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(100))  # coarse: "Chrome 120 · Android"
    ip_prefix: Mapped[str | None] = mapped_column(String(45))
    new_device: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
