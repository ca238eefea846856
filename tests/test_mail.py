"""The mail port: outbox rows commit with their change, the SMTP adapter really sends
(against a local test server), failures wait for a retry, and the operators' commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp import mail, settings
from idp.extensions import db
from idp.models import MailMessage
from idp.settings import Settings, SettingsError
from idp.unit_of_work import unit_of_work

from .factories import PRODUCTION_HASH_KEY, PRODUCTION_SECRET_KEY
from .smtp_server import SmtpTestServer
from .test_transactions import committed


class Broke(Exception):
    """The use case failing after its mail was queued."""


def queue_code(recipient="citizen@example.ir", code="123456"):
    mail.send_template(recipient, "email_code", code=code, minutes=30)


def test_outbox_row_commits_with_the_change(app):
    """A mail queued in a unit of work is a committed outbox row once the unit ends."""
    with unit_of_work():
        queue_code()
    [(recipient, subject, text, template)] = committed(select(
        MailMessage.recipient, MailMessage.subject, MailMessage.text, MailMessage.template))
    assert recipient == "citizen@example.ir" and template == "email_code"
    assert "کد تأیید پست الکترونیک" in subject and "verification code" in subject
    assert "۱۲۳۴۵۶" in text and "۳۰ دقیقه" in text  # Persian digits in the Persian part
    assert "123456" in text.split("---")[1]  # ASCII in the English part


def test_rollback_leaves_no_mail(app):
    """A unit of work that fails after queuing a mail leaves no outbox row."""
    with pytest.raises(Broke), unit_of_work():
        queue_code()
        raise Broke
    assert committed(select(MailMessage.id)) == []


def test_outbox_backend_sends_nothing(app):
    """The default backend has no transport: rows stay, and the deliverer does nothing."""
    with unit_of_work():
        queue_code()
    assert mail.deliver_pending() == (0, 0)
    assert db.session.scalars(select(MailMessage)).one().sent_at is None


class TestSmtp:
    """MAIL_BACKEND=smtp against a local server with AUTH (STARTTLS off)."""

    @pytest.fixture
    def smtp(self):
        with SmtpTestServer(username="idp", password="relay-secret") as server:
            yield server

    @pytest.fixture
    def app_config(self, app_config, smtp):
        return {**app_config, "MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": smtp.port, "SMTP_STARTTLS": False, "SMTP_USERNAME": "idp",
                "SMTP_PASSWORD": "relay-secret", "MAIL_FROM": "no-reply@idp.example.ir"}

    def test_smtp_backend_sends_after_commit(self, app, smtp):
        """With MAIL_BACKEND=smtp the committed row is delivered with AUTH, from MAIL_FROM."""
        with unit_of_work():
            queue_code()
            assert smtp.messages == []  # nothing leaves before the commit
        mail.wait_for_deliveries(app)
        [(sender, recipients, message)] = smtp.messages
        assert sender == "no-reply@idp.example.ir" and recipients == ["citizen@example.ir"]
        assert smtp.logins == [("idp", "relay-secret")]
        assert message["To"] == "citizen@example.ir"
        assert "کد تأیید پست الکترونیک" in message["Subject"]
        assert "۱۲۳۴۵۶" in message.get_content()
        row = db.session.scalars(select(MailMessage)).one()
        db.session.refresh(row)
        assert row.sent_at is not None and row.attempts == 1


    def test_smtp_rollback_sends_nothing(self, app, smtp):
        """A rolled-back unit starts no delivery."""
        with pytest.raises(Broke), unit_of_work():
            queue_code()
            raise Broke
        mail.wait_for_deliveries(app)
        assert smtp.messages == [] and committed(select(MailMessage.id)) == []


    def test_refused_mail_waits_for_the_deliver_command(self, app, smtp, runner):
        """A refusal leaves the row pending with its error; `flask mail deliver` sends it later."""
        smtp.refuse = True
        with unit_of_work():
            queue_code()
        mail.wait_for_deliveries(app)
        row = db.session.scalars(select(MailMessage)).one()
        db.session.refresh(row)
        assert row.sent_at is None and row.attempts == 1 and row.last_error
        smtp.refuse = False
        result = runner.invoke(args=["mail", "deliver"])
        assert result.exit_code == 0 and "sent 1, failed 0" in result.output
        assert len(smtp.messages) == 1
        assert runner.invoke(args=["mail", "deliver"]).output.strip() == "sent 0, failed 0"


    def test_wrong_smtp_password_is_a_failed_attempt(self, app, smtp, configure):
        """AUTH refused: the message is not sent and counts one attempt."""
        smtp.password = "another"
        with unit_of_work():
            queue_code()
        mail.wait_for_deliveries(app)
        row = db.session.scalars(select(MailMessage)).one()
        db.session.refresh(row)
        assert row.sent_at is None and row.last_error == "SMTPAuthenticationError"
        assert smtp.messages == []


    def test_attempts_stop_at_the_limit(self, app, smtp, configure):
        """After MAIL_MAX_ATTEMPTS failures a message is left alone."""
        configure(MAIL_MAX_ATTEMPTS=2)
        smtp.refuse = True
        with unit_of_work():
            queue_code()
        mail.wait_for_deliveries(app)
        assert mail.deliver_pending() == (0, 1)
        assert mail.deliver_pending() == (0, 0)


def test_mail_outbox_command_prints_messages(app, runner):
    """`flask mail outbox --to` prints the stored messages to one address (domain in any case)."""
    with unit_of_work():
        queue_code("a@example.ir", "111111")
        queue_code("b@example.ir", "222222")
    result = runner.invoke(args=["mail", "outbox", "--to", "b@Example.IR"])
    assert result.exit_code == 0
    assert "to b@example.ir" in result.output and "۲۲۲۲۲۲" in result.output
    assert "a@example.ir" not in result.output
    assert runner.invoke(args=["mail", "deliver"]).exit_code != 0


def test_production_refuses_smtp_without_host():
    """MAIL_BACKEND=smtp with no SMTP_HOST stops a production start."""
    production = Settings(env="production", secret_key=PRODUCTION_SECRET_KEY,
                          hash_key=PRODUCTION_HASH_KEY, issuer="https://login.example.ir",
                          identity_backend="http", identity_http_url="https://r.example.ir",
                          sms_backend="http", sms_http_url="https://sms.example.ir",
                          server_workers=1, mail_backend="smtp")
    with pytest.raises(SettingsError, match="SMTP_HOST"):
        settings.check(production, keys_present=True)
    settings.check(production.__class__(**{**production.__dict__, "smtp_host": "relay"}),
                   keys_present=True)
