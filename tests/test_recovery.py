"""Password recovery (فراموشی گذرواژه): three steps, identical answers, every SMS-code limit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.accounts import passwords
from idp.extensions import db, now
from idp.messages import message
from idp.models import AuditEvent, SmsMessage, SsoSession, TokenFamily, User
from idp.text import fa_digits
from tests.factories import DEFAULT_PASSWORD, make_client, make_user

NEW = "Isfahan1403Naqsh"
UNKNOWN = "0012345679"  # valid, no account


def outbox():
    return list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)))


def code_in(sms: SmsMessage) -> str:
    return re.search(r"#([0-9]{6})\s*$", sms.text)[1]


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def start(client, id_code, **query):
    return client.post("/recover", query_string=query, data={"id_code": id_code,
                                                             "method": "sms"})


def page(response) -> str:
    return response.get_data(as_text=True)


def events(name):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_step_one_page(client):
    """Step 1 shows the stepper, the code field with its counter and the SMS method."""
    text = page(client.get("/recover"))
    assert "فراموشی گذرواژه" in text and "درج کد" in text and "گذرواژه جدید" in text
    assert 'name="id_code"' in text and "رقم از" in text and "پیامک" in text
    assert 'data-digit-counter="recover-counter"' in text


def test_method_is_a_proper_radio_button(client):
    """The SMS method is a Bootstrap radio with its own label (not a full-width input)."""
    text = page(client.get("/recover"))
    assert re.search(r'<input class="form-check-input" id="method-sms" name="method" '
                     r'type="radio" value="sms" checked>\s*<label class="form-check-label" '
                     r'for="method-sms">پیامک</label>', text)


def test_login_page_links_to_recovery_with_next(client):
    """The sign-in page's recovery link carries ``next``."""
    text = page(client.get("/login?next=/authorize%3Fclient_id%3Dx"))
    assert 'href="/recover?next=/authorize?client_id%3Dx"' in text


def test_existing_and_unknown_codes_get_identical_answers(app):
    """Step 1 and 2 answer an unknown code exactly like an existing one."""
    user = make_user()
    known, unknown = app.test_client(), app.test_client()
    answers = []
    for browser, code in ((known, user.id_code), (unknown, UNKNOWN)):
        first = start(browser, code)
        second = browser.get("/recover/code")
        typo = browser.post("/recover/code", data={"code": wrong(code_in(outbox()[0]))})
        answers.append([(r.status_code, r.headers.get("Location"), page(r))
                        for r in (first, second, typo)])
    assert answers[0] == answers[1]
    assert message("otp_invalid", attempts_left="۴") in answers[0][2][2]
    assert "اگر برای کد واردشده حساب کاربری وجود داشته باشد" in answers[0][1][2]
    # Only the real account's mobile got a message.
    [sms] = outbox()
    assert sms.mobile == user.mobile and sms.template == "otp_recovery"
    assert sms.text.rstrip().endswith(f"@localhost #{code_in(sms)}")


def test_full_recovery_revokes_sessions_and_tokens(app):
    """Code → new password: sessions and refresh tokens end, SMS notice, audit trail."""
    user = make_user()
    client, _ = make_client()
    other = app.test_client()
    other.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    grant = TokenFamily(client_id=client.client_id, user_id=user.id, scope="openid",
                        auth_time=now(), created_at=now())
    db.session.add(grant)
    db.session.commit()

    browser = app.test_client()
    start(browser, user.id_code)
    [sms] = outbox()
    response = browser.post("/recover/code", data={"code": code_in(sms)})
    assert response.headers["Location"] == "/recover/password"
    text = page(browser.get("/recover/password"))
    assert "ثبت گذرواژه جدید" in text and 'name="confirm"' in text
    response = browser.post("/recover/password", data={"new_password": NEW, "confirm": NEW})
    assert response.status_code == 302 and response.headers["Location"] == "/login"

    db.session.expire_all()
    assert passwords.verify_password(db.session.get(User, user.id).password_hash, NEW)
    assert db.session.scalar(select(SsoSession).where(SsoSession.ended_at.is_(None))) is None
    assert other.get("/account").status_code == 302
    assert db.session.get(TokenFamily, grant.id).revoked_at is not None
    notice = outbox()[-1]
    assert notice.mobile == user.mobile and notice.template == "password_changed"
    for name in ("recovery_requested", "recovery_code_verified", "password_reset"):
        assert events(name)[0].user_id == user.id
    # Not started from a portal: not signed in.
    assert browser.get("/account").status_code == 302
    # The request is used up.
    assert browser.get("/recover/password").headers["Location"] == "/recover"


def test_recovery_from_a_portal_signs_in_and_continues(app):
    """Started from a portal's sign-in (``next``): the citizen is signed in and sent on."""
    user = make_user()
    browser = app.test_client()
    start(browser, user.id_code, next="/authorize?client_id=portal")
    browser.post("/recover/code", data={"code": code_in(outbox()[0])})
    response = browser.post("/recover/password", data={"new_password": NEW, "confirm": NEW})
    assert response.headers["Location"] == "/authorize?client_id=portal"
    row = db.session.scalar(select(SsoSession).where(SsoSession.ended_at.is_(None)))
    assert row.user_id == user.id and "pwd" in row.amr and "sms" in row.amr  # SMS code used
    assert browser.get("/account").status_code == 200


def test_new_password_rules_apply(app):
    """Step 3 applies the password rules; nothing changes on failure."""
    user = make_user()
    browser = app.test_client()
    start(browser, user.id_code)
    browser.post("/recover/code", data={"code": code_in(outbox()[0])})
    text = page(browser.post("/recover/password", data={
        "new_password": f"Ab{user.id_code}", "confirm": f"Ab{user.id_code}"}))
    assert message("password_contains_id_code") in text
    text = page(browser.post("/recover/password", data={"new_password": NEW, "confirm": "x"}))
    assert message("password_mismatch") in text
    db.session.expire_all()
    assert passwords.verify_password(db.session.get(User, user.id).password_hash,
                                     DEFAULT_PASSWORD)


def test_steps_cannot_be_skipped(app):
    """Step 3 needs a passed step 2; steps 2 and 3 need a request."""
    user = make_user()
    browser = app.test_client()
    assert browser.get("/recover/code").headers["Location"] == "/recover"
    start(browser, user.id_code)
    assert browser.get("/recover/password").headers["Location"] == "/recover"
    response = browser.post("/recover/password", data={"new_password": NEW, "confirm": NEW})
    assert response.headers["Location"] == "/recover"
    db.session.expire_all()
    assert passwords.verify_password(db.session.get(User, user.id).password_hash,
                                     DEFAULT_PASSWORD)


@pytest.mark.parametrize("status", ["locked", "disabled", "deceased"])
def test_blocked_accounts_get_no_code(app, status):
    """Blocked accounts are answered like unknown codes and get no SMS."""
    user = make_user(status=status)
    browser = app.test_client()
    assert start(browser, user.id_code).headers["Location"] == "/recover/code"
    assert outbox() == []


@pytest.mark.parametrize("known", [True, False])
def test_code_expires_after_ttl(app, clock, known):
    """A code older than OTP_TTL is refused, with or without an account."""
    user = make_user()
    browser = app.test_client()
    start(browser, user.id_code if known else UNKNOWN)
    code = code_in(outbox()[0]) if known else "123456"
    clock.advance(app.config["OTP_TTL"] + 1)
    text = page(browser.post("/recover/code", data={"code": code}))
    assert message("otp_expired") in text


@pytest.mark.parametrize("known", [True, False])
def test_code_dies_after_max_attempts(app, known):
    """OTP_MAX_ATTEMPTS wrong codes kill the code, even the right one afterwards."""
    user = make_user()
    browser = app.test_client()
    start(browser, user.id_code if known else UNKNOWN)
    right = code_in(outbox()[0]) if known else "123456"
    texts = [page(browser.post("/recover/code", data={"code": wrong(right)}))
             for _ in range(app.config["OTP_MAX_ATTEMPTS"])]
    assert message("otp_invalid", attempts_left="۴") in texts[0]
    assert message("otp_dead") in texts[-1]
    text = page(browser.post("/recover/code", data={"code": right}))
    assert message("otp_dead") in text


def test_unknown_code_answers_like_an_account_through_every_attempt(app, clock):
    """Every wrong code, the dead code, a resend and the expiry answer alike with and
    without an account: the same pages, remaining attempts and lock."""
    user = make_user()
    browsers = {"known": app.test_client(), "unknown": app.test_client()}
    start(browsers["known"], user.id_code)
    start(browsers["unknown"], UNKNOWN)
    answers = {name: [] for name in browsers}

    def everyone(request):
        for name, browser in browsers.items():
            response = request(browser)
            answers[name].append((response.status_code, response.headers.get("Location"),
                                  page(response)))

    def typo():  # the same wrong code in both browsers: the page shows what was typed
        sent = {code_in(sms) for sms in outbox()}
        return next(c for c in ("000000", "111111", "222222") if c not in sent)

    most = app.config["OTP_MAX_ATTEMPTS"]
    first = typo()
    for _ in range(most + 1):
        everyone(lambda b: b.post("/recover/code", data={"code": first}))
    clock.advance(app.config["OTP_RESEND_AFTER"])
    everyone(lambda b: b.post("/recover/resend"))
    second = typo()
    everyone(lambda b: b.post("/recover/code", data={"code": second}))
    clock.advance(app.config["OTP_TTL"])
    everyone(lambda b: b.post("/recover/code", data={"code": second}))

    assert answers["known"] == answers["unknown"]
    texts = [text for _, _, text in answers["unknown"]]
    for tries in range(1, most):
        assert message("otp_invalid", attempts_left=fa_digits(most - tries)) in texts[tries - 1]
    assert message("otp_dead") in texts[most - 1] and message("otp_dead") in texts[most]
    assert answers["unknown"][most + 1][:2] == (302, "/recover/code")
    assert message("otp_invalid", attempts_left=fa_digits(most - 1)) in texts[most + 2]
    assert message("otp_expired") in texts[most + 3]
    assert [sms.mobile for sms in outbox()] == [user.mobile, user.mobile]


@pytest.mark.parametrize("known", [True, False])
def test_resend_waits_and_replaces_the_code(app, clock, known):
    """A new code only after OTP_RESEND_AFTER; then the old code no longer counts."""
    user = make_user()
    browser = app.test_client()
    start(browser, user.id_code if known else UNKNOWN)
    response = browser.post("/recover/resend", follow_redirects=True)
    assert message("otp_resend_too_soon", seconds="۱۲۰") in page(response)
    clock.advance(app.config["OTP_RESEND_AFTER"])
    browser.post("/recover/resend")
    if known:
        first, second = outbox()
        assert second.mobile == user.mobile
        if code_in(first) != code_in(second):
            text = page(browser.post("/recover/code", data={"code": code_in(first)}))
            assert message("otp_invalid", attempts_left="۴") in text
        response = browser.post("/recover/code", data={"code": code_in(second)})
        assert response.headers["Location"] == "/recover/password"
    else:
        assert outbox() == []


@pytest.mark.parametrize("known", [True, False])
def test_starting_again_too_soon_is_refused_alike(app, clock, known):
    """A second request for the same code within OTP_RESEND_AFTER waits, for every code."""
    user = make_user()
    code = user.id_code if known else UNKNOWN
    start(app.test_client(), code)
    text = page(start(app.test_client(), code))
    assert message("otp_resend_too_soon", seconds="۱۲۰") in text


@pytest.mark.parametrize("known", [True, False])
def test_hourly_cap(app, clock, known):
    """At most OTP_HOURLY_LIMIT codes per hour for one code; the next hour allows more."""
    user = make_user()
    code = user.id_code if known else UNKNOWN
    limit = app.config["OTP_HOURLY_LIMIT"]
    for _ in range(limit):
        assert start(app.test_client(), code).status_code == 302
        clock.advance(app.config["OTP_RESEND_AFTER"])
    assert message("otp_hourly_limit") in page(start(app.test_client(), code))
    assert len(outbox()) == (limit if known else 0)
    clock.advance(3600)
    assert start(app.test_client(), code).status_code == 302


def test_request_expires(app, clock):
    """The whole request ends after RECOVERY_TTL, even with a verified code."""
    user = make_user()
    browser = app.test_client()
    start(browser, user.id_code)
    browser.post("/recover/code", data={"code": code_in(outbox()[0])})
    clock.advance(app.config["RECOVERY_TTL"] + 1)
    response = browser.post("/recover/password", data={"new_password": NEW, "confirm": NEW})
    assert response.headers["Location"] == "/recover"


def test_invalid_code_shape_and_method(client):
    """A malformed code or an unknown method: Persian field errors, no request."""
    text = page(client.post("/recover", data={"id_code": "12345", "method": "sms"}))
    assert message("id_code_invalid") in text
    text = page(client.post("/recover", data={"id_code": UNKNOWN, "method": "email"}))
    assert message("recovery_method_invalid") in text
    assert events("recovery_requested") == []


def test_codes_are_stored_only_as_hmac(app):
    """Neither the typed national code nor the SMS code is stored in clear."""
    from idp.models import OtpChallenge, RecoveryRequest

    user = make_user()
    start(app.test_client(), user.id_code)
    row = db.session.scalar(select(RecoveryRequest))
    challenge = db.session.scalar(select(OtpChallenge))
    assert user.id_code not in row.code_hash
    assert code_in(outbox()[0]) not in challenge.code_hmac
    assert row.expires_at - row.created_at == timedelta(seconds=app.config["RECOVERY_TTL"])


def test_recovery_right_after_a_registration_code_sends_its_own(app, clock):
    """A registration code sent to the mobile a minute ago does not hold back the
    recovery code: the resend delay is counted per purpose."""
    from idp.security import otp

    user = make_user()
    otp.issue_code("registration", "draft-1", user.mobile)
    clock.advance(60)
    browser = app.test_client()
    start(browser, user.id_code)
    sms = outbox()[-1]
    assert len(outbox()) == 2 and sms.mobile == user.mobile
    response = browser.post("/recover/code", data={"code": code_in(sms)})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/recover/password")


def test_unsent_code_answers_like_an_unknown_account(app, configure):
    """When an account's code cannot be sent (its mobile is over the hourly cap), a typed
    code gets the same answer as for a code without an account (no existence signal)."""
    from idp.security import otp

    configure(OTP_HOURLY_LIMIT=1)
    user = make_user()
    otp.issue_code("mobile_change", str(user.id), user.mobile)  # the mobile's one SMS
    known, unknown = app.test_client(), app.test_client()
    answers = []
    for browser, id_code in ((known, user.id_code), (unknown, UNKNOWN)):
        start(browser, id_code)
        typo = browser.post("/recover/code", data={"code": "123456"})
        answers.append((typo.status_code, page(typo)))
    assert len(outbox()) == 1
    assert answers[0] == answers[1]
    assert fa_digits("4") in answers[0][1]  # attempts left, not "no longer valid"


def test_one_live_countdown_on_the_code_step(app):
    """The code step has one countdown, on the «ارسال دوباره کد» button, like
    registration's; no frozen «… ثانیه» sentence beside it."""
    browser = app.test_client()
    start(browser, make_user().id_code)
    page = browser.get("/recover/code").text
    assert page.count("data-resend-wait=") == 1 and 'data-resend-wait="120"' in page
    assert "ثانیه" not in page
    assert "ارسال دوباره کد" in page
