"""Mail: the transport port, the SMTP adapter, the outbox and the message templates
(``templates/mail/*.txt``).

Every message is first an outbox row in the unit of work of the change it belongs to
(:mod:`idp.mail.outbox`), so a rolled-back change sends nothing and a committed one
cannot lose its mail. ``MAIL_BACKEND`` decides what happens next: ``outbox`` (the
default) keeps the rows for ``flask mail outbox``; ``smtp`` delivers them once the unit
has committed, in a background thread so a slow relay never delays the page, and
``flask mail deliver`` / ``flask oidc worker`` retry what failed.
"""

from __future__ import annotations

import threading

from flask import current_app, render_template

from .. import metrics, settings
from ..extensions import db
from ..unit_of_work import after_commit
from . import outbox
from .ports import MailTransport, MailUnavailable

__all__ = ["MailTransport", "MailUnavailable", "deliver_pending", "init_app", "render",
           "send_template", "wait_for_deliveries"]


def mail_transport() -> MailTransport | None:
    """The app's transport (``app.extensions["idp.mail"]``); ``None`` for the outbox."""
    return current_app.extensions.get("idp.mail")


def render(template_name: str, **context) -> tuple[str, str]:
    """Render ``templates/mail/<template_name>.txt`` into ``(subject, text)``.

    The template's first line is ``Subject: …``; the rest is the plain-text body (Persian
    first, then English, with Persian digits through ``persian_digits`` in the Persian part).
    """
    cfg = settings.current()
    brand = {"organisation": cfg.brand_organisation, "system": cfg.brand_system}
    rendered = render_template(f"mail/{template_name}.txt", **{"brand": brand, **context})
    first, _, body = rendered.strip().partition("\n")
    return first.removeprefix("Subject:").strip(), body.strip() + "\n"


def send_template(recipient: str, template_name: str, **context) -> None:
    """Queue the message ``template_name`` to ``recipient`` in the current unit of work.

    It is delivered only if the unit commits (with ``MAIL_BACKEND=smtp``, right after).
    Never raises for a slow or broken relay: the row waits for the next delivery.
    """
    subject, text = render(template_name, **context)
    row = outbox.store(recipient, subject, text, template_name)
    metrics.mail.labels(template_name).inc()
    if mail_transport() is not None:
        app = current_app._get_current_object()
        after_commit(lambda: _start_thread(app, row.id))


def _start_thread(app, message_id: int) -> None:
    threads = app.extensions.setdefault("idp.mail_threads", [])
    threads[:] = [t for t in threads if t.is_alive()]
    thread = threading.Thread(target=_deliver_in_background, args=(app, message_id),
                              name=f"mail-{message_id}", daemon=True)
    threads.append(thread)
    thread.start()


def _deliver_in_background(app, message_id: int) -> None:
    with app.app_context():
        try:
            outbox.deliver(app.extensions["idp.mail"], [message_id])
        except Exception:  # the row stays pending; `flask mail deliver` retries it
            app.logger.exception("mail %s not delivered; `flask mail deliver` retries it",
                                 message_id)
        finally:
            db.session.remove()


def wait_for_deliveries(app, timeout: float = 10.0) -> None:
    """Join the background delivery threads (tests and orderly shutdown)."""
    for thread in list(app.extensions.get("idp.mail_threads", [])):
        thread.join(timeout)


def deliver_pending(limit: int = 100) -> tuple[int, int]:
    """Deliver every pending message (CLI, worker); ``(0, 0)`` with the outbox backend."""
    transport = mail_transport()
    if transport is None:
        return 0, 0
    return outbox.deliver(transport, limit=limit)


def init_app(app) -> None:
    backend = settings.of(app).mail_backend
    if backend == "smtp":
        from .smtp import SmtpMailTransport

        app.extensions["idp.mail"] = SmtpMailTransport(settings.of(app))
    elif backend != "outbox":
        raise ValueError(f"MAIL_BACKEND must be 'outbox' or 'smtp', not {backend!r}")
