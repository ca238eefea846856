"""The outbox SMS gateway: messages are stored in ``sms_outbox`` instead of being sent.

The default outside production. Read it with ``flask sms outbox`` (or from tests). The row
joins the caller's transaction: it is kept when the caller commits, like the change that
caused the message.
"""

from __future__ import annotations

import logging

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
