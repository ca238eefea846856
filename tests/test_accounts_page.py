"""The account page: identity data, email, password change, mobile change, sessions, portals."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from idp.accounts import passwords
from idp.extensions import db, now
from idp.grants import consents
from idp.messages import message
from idp.models import (
    AccessToken,
    AuditEvent,
    RegistryRecord,
    SmsMessage,
    SsoSession,
    TokenFamily,
    User,
)
from tests.factories import DEFAULT_PASSWORD, make_client, make_user

NEW_PASSWORD = "Shiraz1404Rose"
UA_ANDROID = ("Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
UA_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
              "Firefox/133.0")


def sign_in(app, user, password=DEFAULT_PASSWORD, user_agent=UA_WINDOWS, ip="127.0.0.1"):
    """A browser (its own test client) signed in as ``user``."""
    browser = app.test_client()
    response = browser.post("/login", data={"id_code": user.id_code, "password": password},
                            headers={"User-Agent": user_agent},
                            environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def outbox(mobile=None):
    query = select(SmsMessage).order_by(SmsMessage.id)
    if mobile:
        query = query.where(SmsMessage.mobile == mobile)
    return list(db.session.scalars(query))


def code_in(sms: SmsMessage) -> str:
    return re.search(r"#([0-9]{6})\s*$", sms.text)[1]


def family(user, client_id, sid=None):
    row = TokenFamily(client_id=client_id, user_id=user.id, scope="openid", sid=sid,
                      auth_time=now(), created_at=now())
    db.session.add(row)
    db.session.flush()
    db.session.add(AccessToken(jti=f"jti-{row.id}", family_id=row.id,
                               expires_at=now() + timedelta(minutes=5), created_at=now()))
    db.session.commit()
    return row


def set_registry_mobile(user, mobile):
    db.session.execute(update(RegistryRecord).where(RegistryRecord.id_code == user.id_code)
                       .values(mobile=mobile))
    db.session.commit()


def live_sessions(user):
    return list(db.session.scalars(select(SsoSession).where(
        SsoSession.user_id == user.id, SsoSession.ended_at.is_(None))))


def test_identity_data_read_only_with_jalali_birth_date(app):
    """Identity data is shown read-only; the birth date is Solar Hijri in Persian digits."""
    user = make_user(birth_date=date(1990, 3, 21), certificate_number="4521")
    page = sign_in(app, user).get("/account").get_data(as_text=True)
    assert "۱۳۶۹/۰۱/۰۱" in page  # 21 March 1990 = 1 Farvardin 1369
    assert user.id_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in page
    assert "علی احمدی" in page and "۴۵۲۱" in page
    assert 'name="first_name"' not in page and 'name="birth_date"' not in page


def test_email_is_editable(app):
    """A valid email is saved (domain lower-cased); an invalid one gets a Persian error."""
    user = make_user()
    browser = sign_in(app, user)
    response = browser.post("/account/email", data={"email": " Citizen.New@Example.IR "})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "Citizen.New@example.ir"
    response = browser.post("/account/email", data={"email": "not-an-email"})
    assert response.status_code == 400
    assert message("email_invalid") in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "Citizen.New@example.ir"


def test_change_password_page(app):
    """The page has current, new and repeated password and the button ثبت گذرواژه جدید."""
    page = sign_in(app, make_user()).get("/account/password").get_data(as_text=True)
    for name in ("current_password", "new_password", "confirm"):
        assert f'name="{name}"' in page
    assert "ثبت گذرواژه جدید" in page and 'autocomplete="new-password"' in page


def test_change_password_with_wrong_current_password(app):
    """A wrong current password changes nothing and says so next to the field."""
    user = make_user()
    old_hash = user.password_hash
    browser = sign_in(app, user)
    response = browser.post("/account/password", data={
        "current_password": "Wrong1234", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 200
    assert message("current_password_wrong") in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash
    assert outbox() == []
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "password_change_failed")) is not None


@pytest.mark.parametrize(("new", "confirm", "code"), [
    ("short1A", "short1A", "password_too_short"),
    ("Karaj1399Blue", "Karaj1399Blue", "password_same_as_current"),
    ("Password1", "Password1", "password_too_common"),
    (NEW_PASSWORD, NEW_PASSWORD + "x", "password_mismatch"),
])
def test_change_password_rules(app, new, confirm, code):
    """Each broken rule is shown next to the new password; nothing changes."""
    user = make_user(password="Karaj1399Blue")
    browser = sign_in(app, user, password="Karaj1399Blue")
    response = browser.post("/account/password", data={
        "current_password": "Karaj1399Blue", "new_password": new, "confirm": confirm})
    assert message(code) in response.get_data(as_text=True)
    db.session.expire_all()
    assert passwords.verify_password(db.session.get(User, user.id).password_hash,
                                     "Karaj1399Blue")


def test_change_password_ends_other_sessions_and_tokens(app):
    """Success: other sessions end, their refresh tokens are revoked, an SMS notice is sent."""
    user = make_user()
    client, _ = make_client()
    phone = sign_in(app, user, user_agent=UA_ANDROID)
    browser = sign_in(app, user)
    own_sid = live_sessions(user)[-1].sid
    other_sid = next(s.sid for s in live_sessions(user) if s.sid != own_sid)
    mine = family(user, client.client_id, sid=own_sid)
    theirs = family(user, client.client_id, sid=other_sid)
    response = browser.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    db.session.expire_all()
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, NEW_PASSWORD)
    assert [s.sid for s in live_sessions(user)] == [own_sid]
    assert browser.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302
    assert db.session.get(TokenFamily, theirs.id).revoked_at is not None
    assert db.session.get(TokenFamily, mine.id).revoked_at is None
    assert db.session.get(AccessToken, theirs.id).revoked_at is not None
    [sms] = [m for m in outbox() if m.template != "new_sign_in"]  # the phone's: a new browser
    assert sms.mobile == user.mobile and sms.template == "password_changed"
    assert "گذرواژه حساب کاربری شما" in sms.text and "علی احمدی" in sms.text
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "password_changed")).user_id == user.id


def test_sessions_list_and_sign_out_one(app):
    """Active sessions show device/browser, IP and last use; one can be signed out."""
    user = make_user()
    phone = sign_in(app, user, user_agent=UA_ANDROID, ip="10.1.2.3")
    browser = sign_in(app, user)
    page = browser.get("/account").get_data(as_text=True)
    assert "Chrome 131 · Android" in page and "Firefox 133 · Windows" in page
    assert "10.1.2.3" in page and "همین دستگاه" in page
    phone_sid = next(s.sid for s in live_sessions(user) if s.ip == "10.1.2.3")
    response = browser.post("/account/sessions/end", data={"sid": phone_sid})
    assert response.headers["Location"] == "/account"
    assert phone.get("/account").status_code == 302
    assert browser.get("/account").status_code == 200
    # Another person's session id cannot be ended from here.
    stranger = make_user()
    sign_in(app, stranger)
    stranger_sid = live_sessions(stranger)[0].sid
    browser.post("/account/sessions/end", data={"sid": stranger_sid})
    assert [s.sid for s in live_sessions(stranger)] == [stranger_sid]


def test_ending_the_current_session_signs_out(app):
    """Signing out the current row from the list clears this browser's session."""
    user = make_user()
    browser = sign_in(app, user)
    sid = live_sessions(user)[0].sid
    response = browser.post("/account/sessions/end", data={"sid": sid})
    assert response.headers["Location"] == "/login"
    assert browser.get("/account").status_code == 302


def test_connected_portals_and_revoke(app):
    """Consents are listed by portal name; revoking ends that portal's grants."""
    user = make_user()
    client, _ = make_client(name_fa="سرویس‌های غیرحضوری")
    consents.grant(user.id, client.client_id, ["openid", "profile"])
    db.session.commit()
    grant = family(user, client.client_id)
    browser = sign_in(app, user)
    page = browser.get("/account").get_data(as_text=True)
    assert "سرویس‌های غیرحضوری" in page and "لغو دسترسی" in page
    response = browser.post("/account/consents/revoke", data={"client_id": client.client_id})
    assert response.status_code == 302
    assert consents.granted_scopes(user.id, client.client_id) == set()
    db.session.expire_all()
    assert db.session.get(TokenFamily, grant.id).revoked_at is not None
    assert "سرویس‌های غیرحضوری" not in browser.get("/account").get_data(as_text=True)


def test_mobile_change_flow(app, clock):
    """New number owned by the citizen → code to the new number → switched; old one told."""
    user = make_user()
    old = user.mobile
    new = "09351234567"
    browser = sign_in(app, user)
    response = browser.post("/account/mobile", data={"mobile": new,
                                                     "password": DEFAULT_PASSWORD})
    assert message("mobile_change_not_owned") in response.get_data(as_text=True)
    assert outbox() == []
    set_registry_mobile(user, new)  # the SIM is now registered to the citizen
    response = browser.post("/account/mobile", data={"mobile": "۰۹۳۵ ۱۲۳ ۴۵۶۷",
                                                     "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/account/mobile/verify"
    [sms] = outbox()
    assert sms.mobile == new and sms.template == "otp_mobile_change"
    assert sms.text.rstrip().endswith(f"@localhost #{code_in(sms)}")
    page = browser.get("/account/mobile/verify").get_data(as_text=True)
    assert "۰۹۳۵۱۲۳۴۵۶۷" in page and 'autocomplete="one-time-code"' in page
    wrong = "000000" if code_in(sms) != "000000" else "111111"
    response = browser.post("/account/mobile/verify", data={"code": wrong})
    assert message("otp_invalid", attempts_left="۴") in response.get_data(as_text=True)
    response = browser.post("/account/mobile/verify", data={"code": code_in(sms)})
    assert response.headers["Location"] == "/account"
    db.session.expire_all()
    assert db.session.get(User, user.id).mobile == new
    notice = outbox(old)[-1]
    assert notice.template == "mobile_changed" and "0935***4567" in notice.text
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.event == "mobile_changed")).user_id == user.id


def test_mobile_change_needs_password_and_new_number(app):
    """Wrong password or the same number: refused with their messages, no SMS."""
    user = make_user()
    browser = sign_in(app, user)
    page = browser.post("/account/mobile", data={"mobile": "09351234567",
                                                 "password": "Wrong1234"}).get_data(as_text=True)
    assert message("current_password_wrong") in page
    page = browser.post("/account/mobile", data={"mobile": user.mobile,
                                                 "password": DEFAULT_PASSWORD}).get_data(
        as_text=True)
    assert message("mobile_same_as_current") in page
    page = browser.post("/account/mobile", data={"mobile": "12345",
                                                 "password": DEFAULT_PASSWORD}).get_data(
        as_text=True)
    assert message("mobile_invalid") in page
    assert outbox() == []


def test_mobile_code_expires_and_resend_waits(app, clock):
    """The code dies after OTP_TTL; a new one can be sent only after OTP_RESEND_AFTER."""
    user = make_user()
    browser = sign_in(app, user)
    set_registry_mobile(user, "09351234567")
    browser.post("/account/mobile", data={"mobile": "09351234567",
                                          "password": DEFAULT_PASSWORD})
    browser.post("/account/mobile/resend")
    assert len(outbox("09351234567")) == 1  # too soon
    page = browser.get("/account/mobile/verify").get_data(as_text=True)
    assert "ارسال دوباره کد" in page
    clock.advance(app.config["OTP_TTL"] + 1)
    response = browser.post("/account/mobile/verify",
                            data={"code": code_in(outbox("09351234567")[0])})
    assert response.headers["Location"] == "/account/mobile"  # nothing pending any more
    assert db.session.get(User, user.id).mobile == user.mobile


def test_idle_sessions_are_not_listed(app, clock):
    """A session idle for longer than SESSION_IDLE_TIMEOUT no longer shows in the list."""
    user = make_user()
    sign_in(app, user, user_agent=UA_ANDROID)
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] + 1)
    page = sign_in(app, user).get("/account").get_data(as_text=True)
    sessions = page[page.index('id="sessions"'):]
    sessions = sessions[:sessions.index("</section>")]  # not the sign-in history
    assert "Firefox 133 · Windows" in sessions and "Android" not in sessions


def test_tables_scroll_sideways_on_a_phone(app):
    """The sessions and portals tables sit in a scrolling box, so a 360 px page never
    overflows; the "this device" badge has a readable colour."""
    user = make_user()
    client, _ = make_client(name_fa="سرویس‌های غیرحضوری")
    consents.grant(user.id, client.client_id, ["openid", "profile"])
    db.session.commit()
    page = sign_in(app, user).get("/account").get_data(as_text=True)
    assert page.count("<table") == 3  # sessions, recent sign-ins, portals
    assert len(re.findall(r'<div class="table-responsive">\s*<table', page)) == 3
    css = Path(app.static_folder, "css", "idp.css").read_text(encoding="utf-8")
    assert re.search(r"\.badge \{[^}]*[^-]color:", css)


def test_code_pages_fill_the_sms_code_by_webotp(app):
    """The recovery and mobile-change code forms are marked for WebOTP, and the script
    they load asks the browser for the SMS code (Android Chrome fills it in)."""
    user = make_user()
    browser = app.test_client()
    browser.post("/recover", data={"id_code": user.id_code, "method": "sms"})
    pages = [browser.get("/recover/code").get_data(as_text=True)]
    browser = sign_in(app, user)
    set_registry_mobile(user, "09351234567")
    browser.post("/account/mobile", data={"mobile": "09351234567", "password": DEFAULT_PASSWORD})
    pages.append(browser.get("/account/mobile/verify").get_data(as_text=True))
    for page in pages:
        assert re.search(r'<form method="post" novalidate data-webotp>', page)
        assert "/static/js/accounts.js" in page
    script = Path(app.static_folder, "js", "accounts.js").read_text(encoding="utf-8")
    assert "OTPCredential" in script and 'transport: ["sms"]' in script

