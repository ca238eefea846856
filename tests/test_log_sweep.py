"""Log sweep (issue 9, "still missing"): the main flows run with every log record captured
at DEBUG, and no record holds a password, an SMS or TOTP code, a token, a client secret,
a full national/FIDA code or a full mobile number — in its message, its arguments or any
extra attribute."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import SmsMessage

from .factories import DEFAULT_PASSWORD, make_portal, make_user
from .test_registration import PASSWORD as REGISTRATION_PASSWORD
from .test_registration import Wizard, make_citizen

NEW = "Shiraz1404Rose"
NEWER = "Tabriz1403Lale"
WRONG = "Wrong12345Guess"

#: LogRecord attributes every record has; anything else was passed as ``extra``.
STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def text_of(record: logging.LogRecord) -> str:
    extras = {k: v for k, v in vars(record).items() if k not in STANDARD}
    return " ".join([record.getMessage(), repr(record.args), repr(extras),
                     record.exc_text or ""])


def sms_codes() -> list[str]:
    return [m[1] for sms in db.session.scalars(select(SmsMessage))
            if (m := re.search(r"#([0-9]{6})\s*$", sms.text))]


def sms_code_for(mobile: str) -> str:
    texts = db.session.scalars(select(SmsMessage.text).where(SmsMessage.mobile == mobile)
                               .order_by(SmsMessage.id)).all()
    return re.search(r"#([0-9]{6})\s*$", texts[-1])[1]


def mobile_forms(mobile: str) -> list[str]:
    """``09121234567`` as typed, in E.164 and without the leading zero."""
    return [mobile, "+98" + mobile[1:], "98" + mobile[1:], mobile[1:]]


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LOG_LEVEL": "DEBUG"}


def test_main_flows_log_no_secret_and_no_full_personal_number(app, client, oidc, auth,
                                                               clock, caplog):
    caplog.set_level(logging.DEBUG)
    secrets: dict[str, str] = {}

    # Registration, all five steps, with a wrong code first.
    record = make_citizen()
    wizard = Wizard(app.test_client(), record)
    wizard.start()
    wizard.step1()
    wizard.verify(code="000000" if sms_code_for(record.mobile) != "000000" else "111111")
    wizard.verify()
    wizard.step2()
    wizard.step3()
    wizard.step4()
    assert wizard.confirm().status_code == 302
    secrets.update(registration_password=REGISTRATION_PASSWORD,
                   registered_code=record.id_code)
    secrets.update({f"registered_mobile_{i}": f for i, f in
                    enumerate(mobile_forms(record.mobile))})

    # Sign-in: a wrong password, an unknown code, then the right password.
    user = make_user()
    browser = app.test_client()
    browser.post("/login", data={"id_code": user.id_code, "password": WRONG})
    browser.post("/login", data={"id_code": "0012345679", "password": WRONG})
    assert browser.post("/login", data={"id_code": user.id_code,
                                        "password": DEFAULT_PASSWORD}).status_code == 302
    secrets.update(password=DEFAULT_PASSWORD, wrong=WRONG, id_code=user.id_code,
                   unknown_code="0012345679")
    secrets.update({f"mobile_{i}": f for i, f in enumerate(mobile_forms(user.mobile))})

    # Authorization code, token exchange, refresh, userinfo, introspection, revocation.
    rp, client_secret = make_portal(first_party=True)
    code, params = oidc.get_code(rp, browser=browser)
    tokens = oidc.exchange(rp, client_secret, code, params, browser=browser).json
    refreshed = browser.post("/oauth/token", auth=(rp.client_id, client_secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json
    assert "access_token" in refreshed, refreshed
    browser.get("/userinfo", headers={"Authorization": f"Bearer {refreshed['access_token']}"})
    browser.post("/oauth/introspect", auth=(rp.client_id, client_secret),
                 data={"token": refreshed["access_token"]})
    browser.post("/oauth/token", auth=(rp.client_id, "wrong-secret"), data={
        "grant_type": "refresh_token", "refresh_token": refreshed["refresh_token"]})
    browser.post("/oauth/token", auth=(rp.client_id, client_secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})  # replay
    browser.post("/oauth/revoke", auth=(rp.client_id, client_secret),
                 data={"token": refreshed["refresh_token"]})
    secrets.update(code=code, client_secret=client_secret, verifier=params["_verifier"],
                   access=tokens["access_token"], refresh=tokens["refresh_token"],
                   id_token=tokens["id_token"], access2=refreshed["access_token"],
                   refresh2=refreshed["refresh_token"])

    # Password change: a wrong current password, then the right one.
    browser.post("/account/password", data={"current_password": WRONG,
                                            "new_password": NEW, "confirm": NEW})
    assert browser.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW,
        "confirm": NEW}).status_code == 302
    secrets["new_password"] = NEW

    # Recovery: a wrong code, then the right one and a new password.
    recovering = app.test_client()
    recovering.post("/recover", data={"id_code": user.id_code, "method": "sms"})
    right = sms_code_for(user.mobile)
    recovering.post("/recover/code", data={"code": "000000" if right != "000000" else "1"})
    recovering.post("/recover/code", data={"code": right})
    assert recovering.post("/recover/password", data={
        "new_password": NEWER, "confirm": NEWER}).status_code == 302
    secrets["newer_password"] = NEWER

    # Admin sign-in: password, TOTP enrolment (secret and recovery codes shown once),
    # then a later sign-in with a wrong and a right TOTP code and a recovery code.
    admin_browser = app.test_client()
    admin = auth.admin_session(browser=admin_browser)
    clock.advance(30)
    again = app.test_client()
    auth.sign_in(admin, browser=again)
    again.post("/admin/verify", data={"code": "000000"})
    totp_code = auth.code_for(admin)
    again.post("/admin/verify", data={"code": totp_code})
    secrets.update(admin_code=admin.id_code, totp_code=totp_code)
    secrets.update({f"admin_mobile_{i}": f for i, f in enumerate(mobile_forms(admin.mobile))})

    for i, sms in enumerate(sms_codes()):
        secrets[f"sms_code_{i}"] = sms

    assert len(caplog.records) > 20  # the flows did log
    leaks = [(name, record.name, record.getMessage()[:200])
             for record in caplog.records for name, value in secrets.items()
             if value and value in text_of(record)]
    assert leaks == []
