"""SMS: the gateway port, its adapters and the message templates (``templates/sms/*.txt``).

``SMS_BACKEND`` chooses the adapter: ``outbox`` (stored in the database) or ``http``.

Transactions: a message is sent inside the unit of work of the change it belongs to
(:mod:`idp.unit_of_work`). The outbox gateway adds its row to that unit, so the row
commits with the change or not at all. The HTTP gateway hands the message to the provider
at once and cannot take it back; sending it only after the commit would cost what the
callers need (an SMS code whose sending fails must leave no challenge and no spent send
slot, and the citizen must be told ``sms_unavailable``). So a message is the last write of
its unit, after every check and flush that could still refuse the change: only a failing
COMMIT could then leave a sent message without its change. A failure of an informational
message (welcome, "password changed") is logged and never undoes the change.
"""

from __future__ import annotations

from flask import current_app, render_template

from .. import metrics, settings
from ..text import fa_digits
from .ports import SmsGateway, SmsUnavailable

__all__ = ["SmsGateway", "SmsUnavailable", "init_app", "render", "send_template",
           "sms_gateway"]


def sms_gateway() -> SmsGateway:
    """Return the app's SMS gateway (``app.extensions["idp.sms"]``)."""
    return current_app.extensions["idp.sms"]


def render(template_name: str, **context) -> str:
    """Render ``templates/sms/<template_name>.txt`` (with ``brand``), trimmed.

    SMS texts are Persian whatever the language of the page that caused them: the
    Persian brand names, and the ``persian_digits`` filter for numbers.
    """
    cfg = settings.current()
    brand = {"organisation": cfg.brand_organisation, "system": cfg.brand_system}
    return render_template(f"sms/{template_name}.txt", **{"brand": brand, **context}).strip()


def send_template(mobile: str, template_name: str, **context) -> str:
    """Render the message ``template_name`` with ``context`` and send it to ``mobile``.

    Call it inside the unit of work of the change the message belongs to, as its last
    write: the outbox gateway's row joins that unit. Returns the text sent.

    :raises SmsUnavailable: when the gateway could not send it.
    """
    text = render(template_name, **context)
    try:
        with metrics.adapter_call("sms", "send"):
            sms_gateway().send(mobile, text, template=template_name, params=context)
    except SmsUnavailable:
        metrics.sms.labels(template_name, "failed").inc()
        raise
    metrics.sms.labels(template_name, "sent").inc()
    return text


def init_app(app) -> None:
    # SMS texts are Persian whatever the page's language: Persian digits, unlike fa_digits.
    app.jinja_env.filters["persian_digits"] = fa_digits
    backend = settings.of(app).sms_backend
    if backend == "outbox":
        from .outbox import OutboxSmsGateway

        app.extensions["idp.sms"] = OutboxSmsGateway()
    elif backend == "http":
        from .http import HttpSmsGateway

        app.extensions["idp.sms"] = HttpSmsGateway(app.config)
    else:
        raise ValueError(f"SMS_BACKEND must be 'outbox' or 'http', not {backend!r}")
