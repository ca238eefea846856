"""Every SMS caused by a change is written in the change's own unit of work (issue 9,
finding 15): a failure injected right after the outbox row is inserted leaves neither the
change nor the message. Nothing is killed and no service is replaced: a session listener
raises after the flush that inserted the row, as a lost connection would."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select, update

from idp.accounts import passwords
from idp.extensions import db
from idp.models import RegistryRecord, SmsMessage, User

from .factories import DEFAULT_PASSWORD, make_user
from .test_registration import make_citizen
from .test_registration_race import at_review
from .test_transactions import committed

NEW = "Shiraz1404Rose"


class InjectedFailure(Exception):
    """The database connection failing after the outbox INSERT was sent."""


@pytest.fixture
def fail_after_outbox(app):
    """Arm with ``arm(template)``: the next flush inserting such an outbox row raises."""
    armed: set[str] = set()

    def after_flush(session, context):
        if any(isinstance(o, SmsMessage) and o.template in armed for o in session.new):
            raise InjectedFailure

    event.listen(db.session, "after_flush", after_flush)
    yield armed.add
    event.remove(db.session, "after_flush", after_flush)


def outbox_rows(template: str) -> list[tuple]:
    return committed(select(SmsMessage.mobile).where(SmsMessage.template == template))


def password_of(user_id: int) -> str:
    [(stored,)] = committed(select(User.password_hash).where(User.id == user_id))
    return stored


def test_welcome_sms_and_account(app, clock, fail_after_outbox):
    record = make_citizen()
    wizard = at_review(app.test_client(), record, clock)
    fail_after_outbox("welcome")
    assert wizard.confirm().status_code == 500
    assert committed(select(User.id)) == [] and outbox_rows("welcome") == []


def test_password_changed_notice_on_the_account_page(app, fail_after_outbox):
    user = make_user()
    browser = app.test_client()
    browser.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    fail_after_outbox("password_changed")
    response = browser.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW, "confirm": NEW})
    assert response.status_code == 500
    assert passwords.verify_password(password_of(user.id), DEFAULT_PASSWORD)
    assert outbox_rows("password_changed") == []


def test_password_changed_notice_of_an_expired_password(app, fail_after_outbox):
    user = make_user(must_change_password=True)
    browser = app.test_client()
    browser.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    fail_after_outbox("password_changed")
    response = browser.post("/login/new-password", data={"new_password": NEW, "confirm": NEW})
    assert response.status_code == 500
    assert passwords.verify_password(password_of(user.id), DEFAULT_PASSWORD)
    assert outbox_rows("password_changed") == []


def test_password_changed_notice_of_a_recovery(app, fail_after_outbox):
    user = make_user()
    browser = app.test_client()
    browser.post("/recover", data={"id_code": user.id_code, "method": "sms"})
    [sms] = db.session.scalars(select(SmsMessage)).all()
    code = re.search(r"#([0-9]{6})\s*$", sms.text)[1]
    assert browser.post("/recover/code", data={"code": code}).status_code == 302
    fail_after_outbox("password_changed")
    response = browser.post("/recover/password", data={"new_password": NEW, "confirm": NEW})
    assert response.status_code == 500
    assert passwords.verify_password(password_of(user.id), DEFAULT_PASSWORD)
    assert outbox_rows("password_changed") == []


def test_mobile_changed_notice(app, fail_after_outbox):
    user = make_user()
    new_mobile = "09351234567"
    db.session.execute(update(RegistryRecord).where(RegistryRecord.id_code == user.id_code)
                       .values(mobile=new_mobile))
    db.session.commit()
    browser = app.test_client()
    browser.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    browser.post("/account/mobile", data={"password": DEFAULT_PASSWORD, "mobile": new_mobile})
    sms = db.session.scalars(select(SmsMessage).where(SmsMessage.mobile == new_mobile)).one()
    code = re.search(r"#([0-9]{6})\s*$", sms.text)[1]
    fail_after_outbox("mobile_changed")
    response = browser.post("/account/mobile/verify", data={"code": code})
    assert response.status_code == 500
    assert committed(select(User.mobile).where(User.id == user.id)) == [(user.mobile,)]
    assert outbox_rows("mobile_changed") == []


@pytest.mark.parametrize("template", ["otp_registration", "otp_recovery"])
def test_sms_codes_and_their_challenges(app, fail_after_outbox, template):
    """A code's SMS and its challenge row commit together (registration, recovery)."""
    from idp.models import OtpChallenge

    fail_after_outbox(template)
    browser = app.test_client()
    if template == "otp_registration":
        record = make_citizen()
        browser.post("/register", data={"id_type": "national"})
        response = browser.post("/register/step/1", data={
            "id_code": record.id_code, "mobile": record.mobile, "action": "next"})
    else:
        user = make_user()
        response = browser.post("/recover", data={"id_code": user.id_code, "method": "sms"})
    assert response.status_code == 500
    assert committed(select(OtpChallenge.id)) == []
    assert committed(select(SmsMessage.id)) == []
