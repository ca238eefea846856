"""The mail outbox: every message is a ``mail_outbox`` row written in the caller's unit
of work, so it commits with the change that caused it or not at all.

With ``MAIL_BACKEND=smtp`` the rows are delivered once their unit has committed (a
background thread, see :func:`idp.mail.queue`), and again by ``flask mail deliver`` or
``flask oidc worker`` while ``attempts < MAIL_MAX_ATTEMPTS``. A delivery first claims its
row with a conditional UPDATE committed before the SMTP conversation, so two deliverers
never send one message at once; no transaction stays open while the relay answers.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from .. import settings
from ..extensions import db, now
from ..models import MailMessage
from ..text import mask_email
from ..unit_of_work import transactional
from .ports import MailTransport, MailUnavailable

logger = logging.getLogger("idp.mail")


def store(recipient: str, subject: str, text: str, template: str | None) -> MailMessage:
    """Add a message to the caller's unit of work (the outbox never commits)."""
    row = MailMessage(recipient=recipient, subject=subject, text=text, template=template,
                      attempts=0, created_at=now())
    db.session.add(row)
    db.session.flush()
    logger.info("mail to %s stored in the outbox (%s)", mask_email(recipient), template or "-")
    return row


def deliver(transport: MailTransport, ids: list[int] | None = None,
            limit: int = 100) -> tuple[int, int]:
    """Send pending messages (all of them, or just ``ids``); return (sent, failed)."""
    sent = failed = 0
    for message_id, attempts in _pending(ids, limit):
        row = _claim(message_id, attempts)
        if row is None:
            continue  # another deliverer has it
        try:
            transport.send(row.recipient, row.subject, row.text)
        except MailUnavailable as e:
            _record(message_id, str(e)[:200] or "unavailable")
            failed += 1
        else:
            _record(message_id, None)
            sent += 1
    return sent, failed


@transactional
def _pending(ids: list[int] | None, limit: int) -> list[tuple[int, int]]:
    """``(id, attempts)`` of the messages to try; the read's transaction ends here, so
    none stays open during an SMTP conversation."""
    query = select(MailMessage.id, MailMessage.attempts).where(
        MailMessage.sent_at.is_(None),
        MailMessage.attempts < settings.current().mail_max_attempts)
    if ids is not None:
        query = query.where(MailMessage.id.in_(ids))
    return [tuple(row) for row in db.session.execute(query.order_by(MailMessage.id).limit(limit))]


@transactional
def _claim(message_id: int, attempts: int) -> MailMessage | None:
    claimed = db.session.execute(
        update(MailMessage).where(MailMessage.id == message_id,
                                  MailMessage.sent_at.is_(None),
                                  MailMessage.attempts == attempts)
        .values(attempts=attempts + 1)
        .execution_options(synchronize_session=False)).rowcount == 1
    return db.session.get(MailMessage, message_id, populate_existing=True) if claimed else None


@transactional
def _record(message_id: int, error: str | None) -> None:
    values = {"last_error": error} if error else {"sent_at": now(), "last_error": None}
    db.session.execute(update(MailMessage).where(MailMessage.id == message_id).values(**values)
                       .execution_options(synchronize_session=False))


def latest(recipient: str | None = None, limit: int = 20) -> list[MailMessage]:
    """Return the newest outbox messages (newest first), optionally to one address."""
    query = select(MailMessage).order_by(MailMessage.created_at.desc(), MailMessage.id.desc())
    if recipient:
        query = query.where(MailMessage.recipient == recipient)
    return list(db.session.scalars(query.limit(limit)))
