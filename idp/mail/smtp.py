"""The SMTP transport (:mod:`smtplib`): one connection per message, STARTTLS and AUTH
when configured. The password and the message text are never logged."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ..text import mask_email
from .ports import MailUnavailable

logger = logging.getLogger("idp.mail")


class SmtpMailTransport:
    def __init__(self, cfg):
        self.host = cfg.smtp_host
        self.port = cfg.smtp_port
        self.starttls = cfg.smtp_starttls
        self.username = cfg.smtp_username
        self.password = cfg.smtp_password
        self.timeout = cfg.smtp_timeout
        self.sender = cfg.mail_from

    def message(self, recipient: str, subject: str, text: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
        message.set_content(text, charset="utf-8")
        return message

    def send(self, recipient: str, subject: str, text: str) -> None:
        """Send one message over a fresh SMTP connection.

        :raises MailUnavailable: on a connection, TLS, AUTH or refusal error (no retry
            here: the outbox row records the attempt and a deliverer retries it).
        """
        if not self.host:
            raise MailUnavailable("SMTP_HOST is empty")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(self.message(recipient, subject, text))
        except (OSError, smtplib.SMTPException) as e:
            logger.warning("mail to %s failed: %s", mask_email(recipient), type(e).__name__)
            raise MailUnavailable(type(e).__name__) from None
        logger.info("mail to %s sent", mask_email(recipient))
