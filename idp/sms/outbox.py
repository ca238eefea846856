"""The outbox SMS gateway: messages are stored in ``sms_outbox`` instead of being sent.

The default outside production. Read it with ``flask sms outbox`` (or from tests). The row
joins the caller's unit of work: it is committed with the change that caused the message,
or rolled back with it; the gateway never commits.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from ..extensions import db, now
from ..models import SmsMessage
from ..text import mask_mobile

logger = logging.getLogger("idp.sms")


class OutboxSmsGateway:
    def send(self, mobile: str, text: str, *, template: str | None = None,
             params: dict | None = None) -> None:
        db.session.add(SmsMessage(mobile=mobile, text=text, template=template,
                                  created_at=now()))
        db.session.flush()
        logger.info("sms to %s stored in the outbox (%s)", mask_mobile(mobile), template or "-")


def latest(mobile: str | None = None, limit: int = 20) -> list[SmsMessage]:
    """Return the newest outbox messages (newest first), optionally for one mobile."""
    query = select(SmsMessage).order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
    if mobile:
        query = query.where(SmsMessage.mobile == mobile)
    return list(db.session.scalars(query.limit(limit)))
