"""Verified email: codes mailed at registration step 3 and from the account page, their
limits, a change resetting the proof, the ``email_verified`` claim and recovery by email."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp.accounts import email_address
from idp.errors import DomainError
from idp.extensions import db
from idp.messages import message
from idp.models import AuditEvent, EmailChallenge, MailMessage, User
from idp.security import email_codes
from idp.text import fa_digits
from idp.unit_of_work import unit_of_work

from .factories import DEFAULT_PASSWORD, make_portal, make_user
from .test_recovery import UNKNOWN, code_in, page, start
from .test_recovery import outbox as sms_outbox
from .test_registration import Wizard, make_citizen
from .test_transactions import committed

EMAIL = "citizen@example.ir"


def mails(recipient: str | None = None) -> list[MailMessage]:
    query = select(MailMessage).order_by(MailMessage.id)
    if recipient:
        query = query.where(MailMessage.recipient == recipient)
    return list(db.session.scalars(query))


def mailed_code(message_row: MailMessage) -> str:
    """The code in the English part of a mail (ASCII digits)."""
    return re.search(r"\b(\d{6})\b", message_row.text.split("---")[1])[1]


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


# --- registration step 3 ----------------------------------------------------------


@pytest.fixture
def wizard(client):
    return Wizard(client, make_citizen())


def to_step3(wizard: Wizard) -> None:
    wizard.through_step(2)


def post3(wizard: Wizard, **data):
    return wizard.client.post("/register/step/3", data=data)


def test_registration_mails_a_code_and_the_code_verifies(wizard, oidc, client):
    """Step 3 mails a code; typing it proves the address and the account starts verified."""
    to_step3(wizard)
    answer = post3(wizard, email=EMAIL, action="next")
    assert answer.headers["Location"].endswith("/register/step/3")
    [sent] = mails(EMAIL)
    assert sent.template == "email_code"
    text = page(client.get("/register/step/3"))
    assert "کد تأیید ۶ رقمی به نشانی" in text and EMAIL in text and "بعداً" in text
    typo = post3(wizard, code=wrong(mailed_code(sent)), action="verify")
    assert message("otp_invalid", attempts_left="۴") in page(typo)
    answer = post3(wizard, code=mailed_code(sent), action="verify")
    assert answer.headers["Location"].endswith("/register/step/4")
    wizard.step4()
    assert wizard.confirm().status_code == 302
    user = db.session.scalars(select(User)).one()
    assert user.email == EMAIL and user.email_verified_at is not None


def test_registration_later_finishes_unverified(wizard):
    """«بعداً» moves on; the account is created with an unverified address."""
    to_step3(wizard)
    post3(wizard, email=EMAIL, action="next")
    assert post3(wizard, action="later").headers["Location"].endswith("/register/step/4")
    wizard.step4()
    wizard.confirm()
    user = db.session.scalars(select(User)).one()
    assert user.email == EMAIL and user.email_verified_at is None


def test_registration_edit_and_resend_wait(wizard, clock):
    """Editing the address mails the new one only after the resend delay; the old code
    then proves nothing."""
    to_step3(wizard)
    post3(wizard, email=EMAIL, action="next")
    [first] = mails()
    post3(wizard, action="edit")
    answer = post3(wizard, email="other@example.ir", action="next")
    assert answer.headers["Location"].endswith("/register/step/3")
    text = page(wizard.client.get("/register/step/3"))
    assert "ثانیه دیگر می‌توانید درخواست کنید" in text and "other@example.ir" in text
    assert len(mails()) == 1  # held back by OTP_RESEND_AFTER
    expired = post3(wizard, code=mailed_code(first), action="verify")
    assert message("otp_expired") in page(expired)  # mailed to the old address
    clock.advance(121)
    post3(wizard, action="resend")
    [second] = mails("other@example.ir")
    answer = post3(wizard, code=mailed_code(second), action="verify")
    assert answer.headers["Location"].endswith("/register/step/4")


def test_a_proved_address_is_not_asked_again(wizard):
    """Back from step 4 with the same, already proved address: no second code."""
    to_step3(wizard)
    post3(wizard, email=EMAIL, action="next")
    post3(wizard, code=mailed_code(mails()[0]), action="verify")
    wizard.step4(action="back")
    assert post3(wizard, email=EMAIL, action="next").headers["Location"].endswith("/step/4")
    assert len(mails()) == 1


# --- account page ---------------------------------------------------------------------


def test_account_page_verifies_the_current_address(app, client, auth):
    """Unverified status shown; «ارسال کد» mails a code; the code verifies it."""
    user = make_user()
    auth.sign_in(user)
    text = page(client.get("/account"))
    assert "تأییدنشده" in text and "ارسال کد تأیید پست الکترونیک" in text
    assert client.post("/account/email/send").headers["Location"].endswith("/account/email/verify")
    [sent] = mails(EMAIL)
    assert "کد تأیید ۶ رقمی به نشانی" in page(client.get("/account/email/verify"))
    answer = client.post("/account/email/verify", data={"code": mailed_code(sent)})
    assert answer.headers["Location"].endswith("/account#contact")
    assert reload(user).email_verified_at is not None
    text = page(client.get("/account"))
    assert "تأییدشده" in text and "ارسال کد تأیید پست الکترونیک" not in text
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.event == "email_verified")).one().user_id == user.id


def test_wrong_code_counts_and_dies(app, client, auth):
    """Wrong codes count down; at OTP_MAX_ATTEMPTS the code is dead."""
    user = make_user()
    auth.sign_in(user)
    client.post("/account/email/send")
    code = mailed_code(mails()[0])
    for left in (4, 3, 2, 1):
        answer = client.post("/account/email/verify", data={"code": wrong(code)})
        assert message("otp_invalid", attempts_left=fa_digits(left)) in page(answer)
    answer = client.post("/account/email/verify", data={"code": wrong(code)})
    assert message("otp_dead") in page(answer)
    answer = client.post("/account/email/verify", data={"code": code})
    assert message("otp_dead") in page(answer)
    assert reload(user).email_verified_at is None


def test_code_expires(app, client, auth, clock):
    """A code older than EMAIL_CODE_TTL is refused."""
    user = make_user()
    auth.sign_in(user)
    client.post("/account/email/send")
    code = mailed_code(mails()[0])
    clock.advance(app.config["EMAIL_CODE_TTL"] + 1)
    auth.sign_in(user)  # the session would have idled out meanwhile
    answer = client.post("/account/email/verify", data={"code": code})
    assert message("otp_expired") in page(answer)
    assert reload(user).email_verified_at is None


def test_resend_throttle_and_newest_code_counts(app, client, auth, clock):
    """A second code waits OTP_RESEND_AFTER; then only the newest code works."""
    user = make_user()
    auth.sign_in(user)
    client.post("/account/email/send")
    answer = client.post("/account/email/send")
    assert answer.headers["Location"].endswith("/account#contact")
    assert "ثانیه دیگر می‌توانید درخواست کنید" in page(client.get("/account"))
    assert len(mails()) == 1
    clock.advance(121)
    client.post("/account/email/send")
    old, new = mails()
    answer = client.post("/account/email/verify", data={"code": mailed_code(old)})
    assert "کد تأیید درست نیست" in page(answer)
    client.post("/account/email/verify", data={"code": mailed_code(new)})
    assert reload(user).email_verified_at is not None


def test_hourly_limit_per_address(app, configure, clock):
    """An address gets at most OTP_HOURLY_LIMIT codes an hour, whoever asks."""
    configure(OTP_HOURLY_LIMIT=2)
    for n in range(2):
        email_codes.issue_code(f"draft:{n}", EMAIL)
    with pytest.raises(DomainError) as refused:
        email_codes.issue_code("draft:9", EMAIL)
    assert refused.value.code == "email_hourly_limit"
    clock.advance(3601)
    email_codes.issue_code("draft:9", EMAIL)


def test_a_code_works_once(app):
    """Replaying a used code is refused (``otp_expired``)."""
    user = make_user()
    email_address.send_code(user)
    code = mailed_code(mails()[0])
    email_address.confirm(user, code)
    with pytest.raises(DomainError) as replay:
        email_codes.verify_code(email_address.subject(user), EMAIL, code)
    assert replay.value.code == "otp_expired"


def test_codes_are_stored_only_as_hmac(app):
    user = make_user()
    email_address.send_code(user)
    code = mailed_code(mails()[0])
    stored = db.session.scalars(select(EmailChallenge)).one()
    assert code not in stored.code_hmac and len(stored.code_hmac) == 64


def test_changing_the_address_resets_and_mails_the_new_one(app, client, auth, clock):
    """A new address is unverified at once and gets a code; the verify page follows."""
    user = make_user(email_verified_at=None)
    email_address.send_code(user)
    email_address.confirm(user, mailed_code(mails()[0]))
    assert reload(user).email_verified_at is not None
    clock.advance(121)  # past the resend delay of the first code
    auth.sign_in(user)
    answer = client.post("/account/email", data={"email": "new@example.ir"})
    assert answer.headers["Location"].endswith("/account/email/verify")
    user = reload(user)
    assert user.email == "new@example.ir" and user.email_verified_at is None
    [sent] = mails("new@example.ir")
    client.post("/account/email/verify", data={"code": mailed_code(sent)})
    assert reload(user).email_verified_at is not None


def test_a_failed_change_mails_nothing(app):
    """The change and its code mail commit together: a failure leaves neither."""
    user = make_user()
    with pytest.raises(RuntimeError), unit_of_work():
        email_address.change(user, "new@example.ir")
        raise RuntimeError("lost connection")
    assert committed(select(MailMessage.id)) == []
    assert committed(select(User.email).where(User.id == user.id)) == [(EMAIL,)]


def test_verify_page_needs_an_unverified_address(app, client, auth):
    """Nothing to verify: back to the account page."""
    user = make_user(email=None)
    auth.sign_in(user)
    assert client.get("/account/email/verify").headers["Location"].endswith("/account#contact")
    answer = client.post("/account/email/send")
    assert answer.headers["Location"].endswith("/account#contact")
    assert mails() == []


# --- the claim ----------------------------------------------------------------------------


def test_email_verified_claim_false_then_true(app, client, oidc):
    """``email_verified`` is false until the mailed code, then true in userinfo and ID token."""
    rp, secret = make_portal(first_party=True)
    user = make_user()
    body = oidc.tokens_for(rp, secret, user, scope="openid email")
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.json["email"] == EMAIL and info.json["email_verified"] is False, info.json
    email_address.send_code(user)
    email_address.confirm(user, mailed_code(mails()[0]))
    body = oidc.tokens_for(rp, secret, user, scope="openid email",
                           claims='{"id_token": {"email_verified": null}}')
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.json["email_verified"] is True
    assert oidc.decode(body["id_token"]).claims["email_verified"] is True


# --- recovery -------------------------------------------------------------------------------


def test_recovery_code_is_also_mailed_to_a_verified_address(app):
    """Verified address: the SMS code is copied by mail; the pages are the same as for an
    unknown code."""
    user = make_user()
    email_address.send_code(user)
    email_address.confirm(user, mailed_code(mails()[0]))
    known, unknown = app.test_client(), app.test_client()
    answers = []
    for browser, code in ((known, user.id_code), (unknown, UNKNOWN)):
        first = start(browser, code)
        second = browser.get("/recover/code")
        answers.append([(r.status_code, r.headers.get("Location"), page(r))
                        for r in (first, second)])
    assert answers[0] == answers[1]
    [sms] = sms_outbox()
    [copy] = mails()[1:]
    assert copy.recipient == EMAIL and copy.template == "recovery_code"
    assert mailed_code(copy) == code_in(sms)
    answer = known.post("/recover/code", data={"code": mailed_code(copy)})
    assert answer.headers["Location"] == "/recover/password"


def test_recovery_code_is_not_mailed_to_an_unverified_address(app):
    user = make_user()
    start(app.test_client(), user.id_code)
    assert len(sms_outbox()) == 1 and mails() == []


def test_code_page_in_english(wizard):
    """The step-3 code page has its English texts."""
    to_step3(wizard)
    post3(wizard, email=EMAIL, action="next")
    text = page(wizard.client.get("/register/step/3?lang=en"))
    assert "A 6-digit verification code was sent to" in text and "Later" in text
    assert "Edit the email address" in text


def test_code_requests_are_rate_limited_per_ip(make_app):
    """«ارسال کد» and the code page count against RATELIMIT_SMS / RATELIMIT_LOGIN per IP."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_SMS="2 per hour",
                   RATELIMIT_LOGIN="100 per minute")
    with app.app_context():
        user = make_user()
        browser = app.test_client()
        browser.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
        statuses = [browser.post("/account/email/send").status_code for _ in range(3)]
    assert statuses == [302, 302, 429]
