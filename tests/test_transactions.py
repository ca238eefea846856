"""One transaction per use case (issue 13 §4): what a failing use case keeps and undoes.

The request and the test share one session, so every check here reads through a
connection of its own: only what was committed counts.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, RegistrationDraft, SmsMessage, User
from idp.sms import SmsUnavailable
from idp.sms.outbox import OutboxSmsGateway

from .factories import make_user
from .test_login import login
from .test_registration import make_citizen
from .test_registration_race import at_review


def committed(statement) -> list[tuple]:
    """Rows of ``statement`` as another connection sees them."""
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(statement)]


def committed_events() -> list[str]:
    return [event for (event,) in committed(select(AuditEvent.event).order_by(AuditEvent.id))]


WELCOME = select(SmsMessage.mobile).where(SmsMessage.template == "welcome")


class OutboxBroke(Exception):
    """The outbox failing after it stored its row (a lost connection, a full disk)."""


@pytest.fixture
def record(app):
    return make_citizen()


def test_a_failed_registration_leaves_neither_account_nor_welcome_sms(app, record, clock,
                                                                      monkeypatch):
    """The probe's finding: the welcome SMS and its account commit together or not at all."""
    wizard = at_review(app.test_client(), record, clock)
    store = OutboxSmsGateway.send

    def store_then_fail(self, mobile, text, **kwargs):
        store(self, mobile, text, **kwargs)
        raise OutboxBroke

    with monkeypatch.context() as patch:
        patch.setattr(OutboxSmsGateway, "send", store_then_fail)
        assert wizard.confirm().status_code == 500
    assert committed(select(User.id)) == []
    assert committed(WELCOME) == []
    assert "registration_completed" not in committed_events()
    assert len(committed(select(RegistrationDraft.id))) == 1, "the citizen may confirm again"

    assert wizard.confirm().status_code == 302
    assert committed(select(User.id_code)) == [(record.id_code,)]
    assert committed(WELCOME) == [(record.mobile,)]
    assert committed_events()[-1] == "registration_completed"


def test_a_welcome_sms_the_gateway_refuses_does_not_undo_the_account(app, record, clock,
                                                                     monkeypatch):
    """A provider that is down costs the welcome SMS, never the registration."""
    wizard = at_review(app.test_client(), record, clock)

    def refuse(self, mobile, text, **kwargs):
        raise SmsUnavailable("HTTP 503")

    monkeypatch.setattr(OutboxSmsGateway, "send", refuse)
    assert wizard.confirm().status_code == 302
    assert committed(select(User.id_code)) == [(record.id_code,)]
    assert committed(WELCOME) == []
    assert committed(select(RegistrationDraft.id)) == []


def test_the_lockout_is_committed_although_the_sign_in_fails(client, app, configure):
    """The wrong password that reaches the limit locks the account: the counter, the lock
    and their audit rows outlive the rollback of the sign-in that raised."""
    configure(LOGIN_MAX_FAILURES=2, LOGIN_LOCKOUT_SECONDS=600)
    user = make_user()
    login(client, user.id_code, "Wrong1234")
    assert committed(select(User.failed_logins).where(User.id == user.id)) == [(1,)]
    login(client, user.id_code, "Wrong1234")
    [(failures, locked_until)] = committed(
        select(User.failed_logins, User.locked_until).where(User.id == user.id))
    assert failures == 0 and locked_until is not None
    assert committed_events() == ["login_failed", "login_failed", "login_lockout"]
