"""The exact SMS texts of the account flows and who receives them (from the outbox)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.accounts import profile
from idp.accounts.devices import describe
from idp.extensions import db
from idp.models import SmsMessage
from idp.security import otp
from idp.text import fa_digits
from tests.factories import make_user

SYSTEM = "سامانه مدیریت کاربران"


def sent() -> list[SmsMessage]:
    return list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)))


def test_password_changed_notice(app):
    """The notice names the citizen, the Tehran time in Persian digits and what to do."""
    user = make_user(first_name="زهرا", last_name="کریمی")
    profile.notify_password_changed(user)  # the clock says 2026-11-26 08:00 UTC
    db.session.commit()
    [sms] = sent()
    assert sms.mobile == user.mobile and sms.template == "password_changed"
    assert sms.text == (
        f"{SYSTEM}\n"
        "زهرا کریمی، گذرواژه حساب کاربری شما در ۱۴۰۵/۰۹/۰۵ ۱۱:۳۰ تغییر کرد. اگر این کار را "
        "شما انجام نداده‌اید، بی‌درنگ با «فراموشی گذرواژه» گذرواژه را عوض کنید و با پشتیبانی "
        "تماس بگیرید.")


@pytest.mark.parametrize(("purpose", "line"), [
    ("recovery", "کد بازیابی گذرواژه شما: "),
    ("mobile_change", "کد تأیید شماره همراه جدید شما: "),
])
def test_code_messages_end_with_the_webotp_line(app, purpose, line):
    """Recovery and mobile-change codes: their own wording, 2 minutes, the WebOTP line last;
    the Persian lines have Persian digits only, even when the page was English."""
    with app.test_request_context("/?lang=en"):
        otp.issue_code(purpose, "42", "09121112233")
    [sms] = sent()
    code = re.search(r"#([0-9]{6})$", sms.text)[1]
    lines = sms.text.split("\n")
    assert sms.mobile == "09121112233" and sms.template == f"otp_{purpose}"
    assert lines[0] == SYSTEM and lines[1] == line + fa_digits(code)
    assert "این کد ۲ دقیقه اعتبار دارد" in lines[2]
    assert not re.search(r"[0-9]", "\n".join(lines[:-1]))
    assert lines[-1] == f"@localhost #{code}"  # WebOTP (ASCII by its format)


@pytest.mark.parametrize(("agent", "text"), [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari 17 · iOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86", "Edge 131 · Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15", "Safari 17 · macOS"),
    ("curl/8.5.0", "مرورگر ناشناخته"),
    ("", "مرورگر ناشناخته"),
])
def test_device_descriptions(agent, text):
    """The sessions list names browser and system in a few words."""
    assert describe(agent) == text
