"""The mail port: hand one plain-text message to a mail transport."""

from __future__ import annotations

from typing import Protocol


class MailUnavailable(Exception):
    """The transport refused the message or did not answer; it was (probably) not sent."""


class MailTransport(Protocol):
    def send(self, recipient: str, subject: str, text: str) -> None:
        """Send a plain-text UTF-8 message from ``MAIL_FROM`` to ``recipient``.

        :raises MailUnavailable: when the message could not be handed over.
        """
