"""English interface of the sign-in, password recovery and account pages (``?lang=en``)."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select, update

from idp.extensions import db
from idp.models import RegistryRecord, SmsMessage
from tests.factories import DEFAULT_PASSWORD, make_user

PERSIAN = re.compile(r"[\u0600-\u06FF]")
NEW_PASSWORD = "Tabriz1404Bazaar"


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def visible(html: str, tag: str) -> list[str]:
    """The text inside every ``<tag …>…</tag>`` of ``html`` (markup removed)."""
    return [re.sub(r"<[^>]+>", "", m) for m in
            re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, re.S)]


def assert_english(html: str, *tags: str, skip: tuple[str, ...] = ()) -> None:
    """The page is English and the given elements have no Persian left."""
    assert '<html lang="en" dir="ltr">' in html
    for tag in {"title", "h1", "h2", "button", "label", "th", *tags} - set(skip):
        for content in visible(html, tag):
            assert not PERSIAN.search(content), f"<{tag}> still Persian: {content!r}"


def english_browser(app):
    browser = app.test_client()
    assert browser.get("/login?lang=en").status_code == 200  # the cookie remembers English
    return browser


def signed_in(app, user):
    browser = english_browser(app)
    response = browser.post("/login", data={"id_code": user.id_code,
                                            "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return browser


def last_code() -> str:
    sms = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc())).first()
    return re.search(r"#([0-9]{6})\s*$", sms.text)[1]


def test_login_page_in_english(client):
    html = text(client.get("/login?lang=en"))
    assert_english(html)
    assert "<h1>Sign in</h1>" in html
    assert "National code / FIDA code" in html and "Password" in html
    assert "Forgot your password?" in html and "Register" in html


def test_login_errors_in_english(client):
    html = text(client.post("/login?lang=en", data={"id_code": "", "password": ""}))
    assert "This field is required." in html
    html = text(client.post("/login?lang=en", data={"id_code": "123", "password": "x"}))
    assert "Enter a valid national code (10 digits) or FIDA code (12 digits)." in html
    user = make_user()
    html = text(client.post("/login?lang=en", data={"id_code": user.id_code,
                                                    "password": "Wrong1234"}))
    assert "The national code/FIDA code or password is incorrect." in html
    assert_english(html)


def test_persian_stays_the_default(client):
    html = text(client.get("/login"))
    assert '<html lang="fa" dir="rtl">' in html
    assert "<h1>ورود به سامانه</h1>" in html and "فراموشی گذرواژه" in html
    assert "Sign in" not in html


def test_expired_password_step_in_english(app):
    user = make_user(must_change_password=True)
    browser = english_browser(app)
    browser.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    html = text(browser.get("/login/new-password"))
    assert_english(html, "li")
    assert "Set a new password" in html and "At least one upper-case letter (A to Z)" in html
    html = text(browser.post("/login/new-password", data={
        "new_password": "short", "confirm": "other"}))
    assert "The passwords do not match." in html
    html = text(browser.post("/login/new-password", data={
        "new_password": "short", "confirm": "short"}))
    assert "The password must be at least 8 characters long." in html


def test_recovery_steps_in_english(app, clock):
    user = make_user()
    browser = english_browser(app)
    html = text(browser.get("/recover"))
    assert_english(html, "li", "legend")
    assert "Forgot your password?" in html and "Recovery method" in html and "SMS" in html
    assert "<bdi>0</bdi> of <bdi>10</bdi> digits" in html
    assert 'data-counter-text="{count} of {total} digits"' in html  # accounts.js rewrites it
    assert "Next step" in html and "Back to sign-in" in html

    response = browser.post("/recover", data={"id_code": user.id_code, "method": "sms"})
    assert response.status_code == 302
    html = text(browser.get("/recover/code"))
    assert_english(html, "li")
    assert "a verification code has been sent by SMS" in html
    assert re.search(r'data-resend-wait="120"\s*>Send the code again</button>', html)
    clock.advance(app.config["OTP_RESEND_AFTER"] + 1)
    html = text(browser.post("/recover/resend", follow_redirects=True))
    assert "If an account exists for this code, a new code has been sent by SMS." in html

    browser.post("/recover/code", data={"code": last_code()})
    html = text(browser.get("/recover/password"))
    assert_english(html, "li")
    assert "Save new password" in html and "Repeat the new password" in html
    html = text(browser.post("/recover/password", data={"new_password": NEW_PASSWORD,
                                                        "confirm": NEW_PASSWORD},
                             follow_redirects=True))
    assert "Your new password has been saved." in html


def test_account_page_in_english(app):
    user = make_user(gender="female")
    browser = signed_in(app, user)
    html = text(browser.get("/account"))
    assert_english(html, "dt", skip=("h2",))  # the <h2> is the citizen's (Persian) name
    assert [h for h in visible(html, "h2") if PERSIAN.search(h)] == [user.full_name]
    for words in ("My account", "National code", "Father's name", "Female", "Date of birth",
                  "Contact details", "Change mobile number", "Save email", "Active sessions",
                  "Unknown browser", "This device", "Connected portals",
                  "You have not given any portal access yet."):
        assert words in html, words
    html = text(browser.post("/account/email", data={"email": "user@example.com"},
                             follow_redirects=True))
    assert "Verify your email" in html and "A 6-digit verification code was sent to" in html
    assert "Later" in html
    html = text(browser.get("/account"))
    assert "Not verified" in html and "Send an email verification code" in html
    assert "Recent sign-ins" in html and "IP range" in html
    html = text(browser.post("/account/email", data={"email": ""}, follow_redirects=True))
    assert "Your email has been saved." in html


def test_password_change_in_english(app):
    browser = signed_in(app, make_user())
    html = text(browser.get("/account/password"))
    assert_english(html, "li")
    assert "Current password" in html and "Cancel" in html
    html = text(browser.post("/account/password", data={
        "current_password": "Wrong1234", "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD}))
    assert "The current password is incorrect." in html
    html = text(browser.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD}, follow_redirects=True))
    assert "You have been signed out of all other devices." in html


def test_mobile_change_in_english(app):
    user = make_user()
    browser = signed_in(app, user)
    html = text(browser.get("/account/mobile"))
    assert_english(html)
    assert "New mobile number" in html and "Send code" in html
    new = "09351234567"
    db.session.execute(update(RegistryRecord).where(RegistryRecord.id_code == user.id_code)
                       .values(mobile=new))
    db.session.commit()
    browser.post("/account/mobile", data={"mobile": new, "password": DEFAULT_PASSWORD})
    html = text(browser.get("/account/mobile/verify"))
    assert_english(html)
    assert ('A verification code has been sent by SMS to <bdi dir="ltr">09351234567</bdi>.'
            in html)
    assert "Verification code" in html and ">Verify</button>" in html
    html = text(browser.post("/account/mobile/verify", data={"code": "12"}))
    assert "The verification code has 6 digits" in html
    html = text(browser.post("/account/mobile/verify", data={"code": last_code()},
                             follow_redirects=True))
    assert "Your new mobile number has been saved." in html


def test_logout_in_english(app):
    browser = signed_in(app, make_user())
    html = text(browser.get("/account/logout"))
    assert_english(html)
    assert "Signing out also signs you out of every portal" in html
    html = text(browser.post("/account/logout", follow_redirects=True))
    assert "You have signed out." in html and "<h1>Sign in</h1>" in html
