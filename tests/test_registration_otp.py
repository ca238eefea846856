"""Step 1's SMS code inside the wizard: wrong, expired, exhausted codes and resend limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import RegistrationDraft

from .test_registration import Wizard, make_citizen, outbox


@pytest.fixture
def record(app):
    return make_citizen()


@pytest.fixture
def wizard(client, record):
    return Wizard(client, record)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_page_shows_the_masked_mobile(wizard):
    wizard.start()
    wizard.step1()
    page = wizard.client.get("/register/step/1").text
    assert "۰۹۱۲***۰۰۰۱" in page and "09121110001" not in page
    assert "ارسال دوباره کد" in page and "ویرایش شماره همراه" in page


def test_double_click_on_step_one_shows_the_code_page_without_errors(wizard):
    """A second "مرحله بعد" of the code-and-mobile form (double click, or a reload that
    posts again) lands on the code page as it is: no "required" error, no second SMS."""
    wizard.start()
    wizard.step1()
    answer = wizard.step1()
    page = answer.text if answer.status_code == 200 else wizard.client.get(
        answer.headers["Location"]).text
    assert 'name="code"' in page
    assert "پر کردن این فیلد الزامی است" not in page and "alert-danger" not in page
    assert len(outbox(wizard.record.mobile)) == 1


def test_wrong_code_counts_down(wizard):
    wizard.start()
    wizard.step1()
    answer = wizard.verify(code=wrong(wizard.sms_code()))
    assert answer.status_code == 200
    assert "کد تأیید درست نیست. ۴ بار دیگر می‌توانید تلاش کنید." in answer.text
    assert wizard.client.get("/register/step/2").headers["Location"].endswith("/step/1")


def test_malformed_code_is_a_form_error(wizard):
    wizard.start()
    wizard.step1()
    answer = wizard.verify(code="12ab")
    assert "کد احراز هویت ۶ رقم است" in answer.text


def test_five_wrong_codes_kill_it(wizard):
    wizard.start()
    wizard.step1()
    right = wizard.sms_code()
    for _ in range(5):
        answer = wizard.verify(code=wrong(right))
    assert "باطل شده است" in answer.text
    answer = wizard.verify(code=right)
    assert answer.status_code == 200 and "باطل شده است" in answer.text


def test_expired_code(wizard, clock):
    wizard.start()
    wizard.step1()
    clock.advance(121)
    answer = wizard.verify()
    assert "این کد تأیید دیگر معتبر نیست" in answer.text


def test_resend_too_early_then_allowed(wizard, clock):
    """A new code only after 120 s; the countdown is on the page; the old code stops working."""
    wizard.start()
    wizard.step1()
    first = wizard.sms_code()
    clock.advance(45)
    page = wizard.client.get("/register/step/1").text
    assert 'data-resend-wait="75"' in page
    answer = wizard.client.post("/register/step/1", data={"action": "resend"},
                                follow_redirects=True)
    assert "کد تازه را ۷۵ ثانیه دیگر می‌توانید درخواست کنید." in answer.text
    assert len(outbox()) == 1
    clock.advance(75)
    answer = wizard.client.post("/register/step/1", data={"action": "resend"},
                                follow_redirects=True)
    assert "کد تأیید تازه پیامک شد." in answer.text
    assert len(outbox()) == 2
    second = wizard.sms_code()
    if second != first:
        assert "درست نیست" in wizard.verify(code=first).text
    assert wizard.verify(code=second).headers["Location"].endswith("/step/2")


def test_hourly_limit_through_the_wizard(wizard, clock):
    wizard.start()
    wizard.step1()
    for _ in range(4):
        clock.advance(120)
        wizard.client.post("/register/step/1", data={"action": "resend"})
    assert len(outbox()) == 5
    clock.advance(120)
    answer = wizard.client.post("/register/step/1", data={"action": "resend"},
                                follow_redirects=True)
    assert "یک ساعت دیگر دوباره تلاش کنید" in answer.text
    assert len(outbox()) == 5


def test_edit_mobile_goes_back_to_the_form(wizard):
    wizard.start()
    wizard.step1()
    answer = wizard.verify(action="edit")
    assert answer.headers["Location"].endswith("/step/1")
    page = wizard.client.get("/register/step/1").text
    assert 'name="mobile"' in page and 'value="09121110001"' in page


def test_new_draft_for_the_same_mobile_waits_for_the_cooldown(client, record):
    """Starting over does not get around the resend limit: the code page explains."""
    first = Wizard(client, record)
    first.start()
    first.step1()
    client.post("/register/restart")
    second = Wizard(client, record)
    second.start()
    answer = second.step1()
    assert answer.headers["Location"].endswith("/step/1")
    page = client.get("/register/step/1").text
    assert "ثانیه دیگر می‌توانید درخواست کنید" in page
    assert len(outbox()) == 1


def test_a_code_of_another_draft_does_not_verify(client, record, clock):
    first = Wizard(client, record)
    first.start()
    first.step1()
    stale = first.sms_code()
    client.post("/register/restart")
    clock.advance(120)
    second = Wizard(client, record)
    second.start()
    second.step1()
    if second.sms_code() != stale:
        assert "درست نیست" in second.verify(code=stale).text
    assert second.verify().headers["Location"].endswith("/step/2")


@pytest.mark.parametrize("action", ["verify", "resend", "edit"])
def test_code_actions_need_a_draft(client, action):
    answer = client.post("/register/step/1", data={"action": action, "code": "123456"})
    assert answer.headers["Location"].endswith("/register")
    assert db.session.scalars(select(RegistrationDraft)).all() == []
