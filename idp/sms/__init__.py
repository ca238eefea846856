"""SMS: the gateway port, its adapters and the message templates (``templates/sms/*.txt``).

``SMS_BACKEND`` chooses the adapter: ``outbox`` (stored in the database) or ``http``.
"""

from __future__ import annotations

from flask import current_app, render_template

from .. import settings
from .ports import SmsGateway, SmsUnavailable

__all__ = ["SmsGateway", "SmsUnavailable", "init_app", "render", "send_template",
           "sms_gateway"]


def sms_gateway() -> SmsGateway:
    """Return the app's SMS gateway (``app.extensions["idp.sms"]``)."""
    return current_app.extensions["idp.sms"]


def render(template_name: str, **context) -> str:
    """Render ``templates/sms/<template_name>.txt`` (with ``brand``), trimmed."""
    return render_template(f"sms/{template_name}.txt", **context).strip()


def send_template(mobile: str, template_name: str, **context) -> str:
    """Render the message ``template_name`` with ``context`` and send it to ``mobile``.

    The outbox gateway adds its row to the caller's transaction, so commit afterwards.
    Returns the text sent.

    :raises SmsUnavailable: when the gateway could not send it.
    """
    text = render(template_name, **context)
    sms_gateway().send(mobile, text, template=template_name, params=context)
    return text


def init_app(app) -> None:
    backend = settings.of(app).sms_backend
    if backend == "outbox":
        from .outbox import OutboxSmsGateway

        app.extensions["idp.sms"] = OutboxSmsGateway()
    elif backend == "http":
        from .http import HttpSmsGateway

        app.extensions["idp.sms"] = HttpSmsGateway(app.config)
    else:
        raise ValueError(f"SMS_BACKEND must be 'outbox' or 'http', not {backend!r}")
