"""The mail outbox and the email-address verification codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class MailMessage(Base):
    """Every mail the IdP sends, written in the unit of work of the change it belongs to.

    With ``MAIL_BACKEND=outbox`` the row is all there is (read it with ``flask mail
    outbox``); with ``smtp`` a deliverer sends it after the commit and sets ``sent_at``.
    """

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class EmailChallenge(Base):
    """A 6-digit code mailed to prove an address. Only an HMAC of the code is stored.

    ``subject`` is whose address it is (``draft:<id>`` during registration, ``user:<id>``
    after); ``email`` is the address the code went to, so a code proves that address only.
    """

    __tablename__ = "email_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    code_hmac: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]
    consumed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
