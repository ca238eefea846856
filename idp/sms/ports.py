"""The SMS port. Adapters: the database outbox (default) and an HTTP provider client."""

from __future__ import annotations

from typing import Protocol

from ..errors import DomainError


class SmsUnavailable(DomainError):
    """The provider refused or did not answer; the message was (probably) not sent."""

    def __init__(self, detail: str = ""):
        super().__init__("sms_unavailable")
        self.detail = detail


class SmsGateway(Protocol):
    def send(self, mobile: str, text: str, *, template: str | None = None,
             params: dict | None = None) -> None:
        """Send ``text`` to ``mobile`` (canonical ``09…``).

        ``template`` and ``params`` name the message and its values for providers that
        only send pre-approved templates (DOMAIN.md §7); ``text`` is the full rendering.

        :raises SmsUnavailable: when the message could not be handed to the provider.
        """
