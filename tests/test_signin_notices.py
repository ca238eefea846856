"""New-sign-in notices (device cookie, SMS or mail after a sign-in from a new browser),
factor notices, the account page's recent sign-ins and their pruning."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.accounts import email_address, notices
from idp.extensions import db, now
from idp.identity import jalali
from idp.models import MailMessage, SignInRecord, SmsMessage
from idp.text import fa_digits
from idp.unit_of_work import unit_of_work

from .factories import DEFAULT_PASSWORD, make_user

ANDROID_CHROME = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36")
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


def sign_in(browser, user, ip="203.0.113.7", agent=ANDROID_CHROME):
    response = browser.post("/login", data={"id_code": user.id_code,
                                            "password": DEFAULT_PASSWORD},
                            environ_base={"REMOTE_ADDR": ip}, headers={"User-Agent": agent})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def sms(template: str) -> list[SmsMessage]:
    return list(db.session.scalars(select(SmsMessage).where(SmsMessage.template == template)
                                   .order_by(SmsMessage.id)))


def mails(template: str) -> list[MailMessage]:
    return list(db.session.scalars(select(MailMessage).where(MailMessage.template == template)
                                   .order_by(MailMessage.id)))


def history(user) -> list[SignInRecord]:
    return list(db.session.scalars(select(SignInRecord).where(SignInRecord.user_id == user.id)
                                   .order_by(SignInRecord.id)))


def verify_email(user) -> None:
    email_address.send_code(user)
    [sent] = mails("email_code")
    email_address.confirm(user, sent.text.split("---")[1].split(": ")[1][:6])


def test_first_sign_in_sets_the_device_cookie_without_a_notice(app):
    """The first sign-in of an account is recorded; no notice (no known browser yet)."""
    user = make_user()
    response = sign_in(app.test_client(), user)
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("idp_device="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=63072000" in cookie
    [row] = history(user)
    assert not row.new_device and row.device == "Chrome 120 · Android"
    assert row.ip_prefix == "203.0.113.0/24"
    assert sms("new_sign_in") == []


def test_https_device_cookie_is_host_prefixed_and_secure(make_app):
    """On an https issuer the device cookie is ``__Host-idp_device``, Secure, path /."""
    https = make_app(ISSUER="https://idp.example.ir", PREFERRED_URL_SCHEME="https")
    with https.app_context():
        user = make_user()
        response = https.test_client().post(
            "/login", base_url="https://localhost",
            data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("__Host-idp_device="))
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"secure", "httponly", "path"} <= attributes and "domain" not in attributes


def test_known_browser_gets_no_notice(app):
    """Signing in again from a browser that holds the device cookie sends nothing."""
    user = make_user()
    browser = app.test_client()
    sign_in(browser, user)
    browser.post("/account/logout")
    response = sign_in(browser, user, ip="198.51.100.9")
    assert not any(c.startswith("idp_device=") for c in response.headers.getlist("Set-Cookie"))
    assert [r.new_device for r in history(user)] == [False, False]
    assert sms("new_sign_in") == []


def test_new_browser_gets_an_sms_notice(app):
    """Another browser: an SMS with Jalali time, coarse device and IP prefix, never the IP."""
    user = make_user()
    sign_in(app.test_client(), user)
    sign_in(app.test_client(), user, ip="198.51.100.23", agent=WINDOWS_FIREFOX)
    [notice] = sms("new_sign_in")
    assert notice.mobile == user.mobile
    assert fa_digits(jalali.format_datetime(now(), persian_digits=False)) in notice.text
    assert "Firefox 121 · Windows" in notice.text and "198.51.100.23" not in notice.text
    assert history(user)[-1].new_device and history(user)[-1].ip_prefix == "198.51.100.0/24"
    assert mails("new_sign_in") == []


def test_new_browser_notice_goes_by_mail_when_the_address_is_verified(app):
    """Verified address: the notice is mailed (with the IP prefix) instead of an SMS."""
    user = make_user()
    verify_email(user)
    sign_in(app.test_client(), user)
    sign_in(app.test_client(), user, ip="198.51.100.23", agent=WINDOWS_FIREFOX)
    [notice] = mails("new_sign_in")
    assert notice.recipient == user.email and "ورود از دستگاه جدید" in notice.subject
    assert "198.51.100.0/24" in notice.text and "198.51.100.23" not in notice.text
    assert sms("new_sign_in") == []


def test_reauthentication_is_not_a_new_sign_in(app, oidc):
    """Typing the password again in the same session adds no history row."""
    user = make_user()
    browser = app.test_client()
    sign_in(browser, user)
    sign_in(browser, user)
    assert len(history(user)) == 1


def test_notice_rolls_back_with_the_sign_in(app, oidc):
    """The history row and the notice commit with the session or not at all."""
    user = make_user()
    sign_in(app.test_client(), user)
    with pytest.raises(RuntimeError), app.test_request_context(
            "/login", method="POST", environ_base={"REMOTE_ADDR": "192.0.2.1"}), unit_of_work():
        notices.new_sign_in(user)
        raise RuntimeError("the sign-in failed later")
    assert len(history(user)) == 1 and sms("new_sign_in") == []


@pytest.mark.parametrize(("factor", "added", "words"), [
    ("passkey", True, "یک کلید عبور به حساب شما افزوده شد"),
    ("totp", False, "برنامه احراز هویت (رمز یکبار مصرف) از حساب شما حذف شد"),
])
def test_factor_changed_sends_an_sms(app, factor, added, words):
    """factor_changed: an SMS naming the factor and whether it was added or removed."""
    user = make_user()
    with unit_of_work():
        notices.factor_changed(user, factor, added=added)
    [notice] = sms("factor_changed")
    assert notice.mobile == user.mobile and words in notice.text


def test_factor_changed_mails_a_verified_address(app):
    user = make_user()
    verify_email(user)
    with unit_of_work():
        notices.factor_changed(user, "passkey", added=False)
    [notice] = mails("factor_changed")
    assert "a passkey was removed from your account" in notice.text
    assert sms("factor_changed") == []


def test_factor_changed_refuses_an_unknown_factor(app):
    with pytest.raises(ValueError, match="unknown factor"):
        notices.factor_changed(make_user(), "fingerprint", added=True)
    assert sms("factor_changed") == []


def test_account_page_lists_recent_sign_ins(app, clock):
    """The last 10 sign-ins, newest first: Jalali time, coarse device, IP prefix only."""
    user = make_user()
    browser = app.test_client()
    for n in range(12):
        clock.advance(60)
        sign_in(app.test_client() if n < 11 else browser, user, ip=f"203.0.113.{n + 1}")
    text = browser.get("/account").get_data(as_text=True)
    section = text[text.index('id="sign-ins"'):text.index('id="portals"')]
    assert "ورودهای اخیر" in section
    assert section.count("<tr>") == 1 + 10  # the header and ten rows
    assert fa_digits(jalali.format_datetime(now(), persian_digits=False)) in section
    assert "Chrome 120 · Android" in section and "203.0.113.0/24" in section
    assert "203.0.113.12" not in section and "203.0.113.7" not in section


@pytest.mark.parametrize(("ip", "prefix"), [
    ("203.0.113.7", "203.0.113.0/24"),
    ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::/48"),
    ("::ffff:198.51.100.4", "198.51.100.0/24"),
    ("not-an-ip", None), (None, None),
])
def test_ip_prefix(ip, prefix):
    assert notices.ip_prefix(ip) == prefix


def test_purge_keeps_the_newest_sign_ins_per_citizen(app, runner, configure, clock):
    """`flask maintenance purge` keeps SIGNIN_HISTORY_KEEP rows per citizen."""
    configure(SIGNIN_HISTORY_KEEP=2)
    first, second = make_user(), make_user()
    for _ in range(3):
        clock.advance(60)
        sign_in(app.test_client(), first)
    sign_in(app.test_client(), second)
    newest = [r.id for r in history(first)][-2:]
    result = runner.invoke(args=["maintenance", "purge"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert [r.id for r in history(first)] == newest and len(history(second)) == 1


def test_adding_and_removing_factors_on_the_account_page_sends_notices(app, client, oidc):
    """The account page's passkey and authenticator-app changes reach the citizen: one
    factor_changed SMS per change (added, then removed)."""
    from .test_citizen_totp import enrol
    from .test_passkeys import add_passkey
    from .webauthn_authenticator import SoftAuthenticator

    user = make_user()
    oidc.sign_in(user)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    enrol(client)
    client.post("/account/second-factor/remove", data={"password": DEFAULT_PASSWORD})
    texts = [m.text for m in sms("factor_changed")]
    assert len(texts) == 3 and all(m.mobile == user.mobile for m in sms("factor_changed"))
    assert "یک کلید عبور به حساب شما افزوده شد" in texts[0]
    assert "از حساب شما حذف شد" in texts[2]
