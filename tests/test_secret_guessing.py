"""Every form of a signed-in citizen or admin that checks a secret is limited like sign-in:
wrong answers count towards the account's lockout, the session ends at the limit, and the
endpoint has a per-IP rate limit (issue 9, finding 6)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.messages import message
from idp.models import AuditEvent, SsoSession, User
from idp.security.ratelimit import LIMITED_ENDPOINTS
from tests.factories import DEFAULT_PASSWORD, make_user

NEW_PASSWORD = "Shiraz1404Rose"


def sign_in(app, user, password=DEFAULT_PASSWORD):
    browser = app.test_client()
    response = browser.post("/login", data={"id_code": user.id_code, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def wrong_change(browser):
    return browser.post("/account/password", data={
        "current_password": "Wrong12345", "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})


def wrong_mobile(browser):
    return browser.post("/account/mobile", data={"password": "Wrong12345",
                                                 "mobile": "09351234567"})


def live_sessions(user):
    return list(db.session.scalars(select(SsoSession).where(
        SsoSession.user_id == user.id, SsoSession.ended_at.is_(None))))


@pytest.mark.parametrize("guess", [wrong_change, wrong_mobile], ids=["password", "mobile"])
def test_wrong_current_passwords_lock_the_account_and_end_the_session(app, configure, guess):
    """After LOGIN_MAX_FAILURES wrong current passwords the session ends with a Persian
    message, the account is locked like after wrong sign-ins, and the right password
    no longer works from that browser."""
    configure(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_SECONDS=600)
    user = make_user()
    browser = sign_in(app, user)
    for _ in range(2):
        response = guess(browser)
        assert response.status_code == 200
        assert message("current_password_wrong") in response.get_data(as_text=True)
    response = guess(browser)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert message("secret_guesses_signed_out", minutes="۱۰") in page
    assert live_sessions(user) == []
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None
    # The session is gone: the right password cannot be tried from this browser.
    response = browser.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Sign-in is locked as after wrong sign-in passwords.
    response = app.test_client().post("/login", data={"id_code": user.id_code,
                                                      "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert message("account_temporarily_locked", minutes="۱۰") in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.event == "login_lockout"))


def test_wrong_current_passwords_share_the_sign_in_counter(app, configure):
    """Wrong sign-ins and wrong current passwords count together, and a right current
    password resets the counter as a right sign-in does."""
    configure(LOGIN_MAX_FAILURES=3)
    user = make_user()
    browser = sign_in(app, user)
    app.test_client().post("/login", data={"id_code": user.id_code, "password": "Nope12345"})
    wrong_change(browser)
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 2
    response = browser.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def test_a_locked_account_refuses_even_the_right_current_password(app, configure):
    """While the account is locked (by wrong sign-ins elsewhere), a session that asks to
    change the password is ended, without the password being checked."""
    configure(LOGIN_MAX_FAILURES=2)
    user = make_user()
    browser = sign_in(app, user)
    other = app.test_client()
    for _ in range(2):
        other.post("/login", data={"id_code": user.id_code, "password": "Nope12345"})
    response = browser.post("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    db.session.expire_all()
    assert passwords_unchanged(user)


def passwords_unchanged(user):
    from idp.accounts import passwords
    return passwords.verify_password(db.session.get(User, user.id).password_hash,
                                     DEFAULT_PASSWORD)


SECRET_FORMS = {
    "accounts.login", "accounts.expired_password", "accounts.recover_code",
    "accounts.change_password", "accounts.change_mobile", "accounts.verify_mobile",
    "registration.step", "admin.verify", "admin.enrol",
}


def test_every_form_that_checks_a_secret_is_rate_limited():
    """Each endpoint that checks a password or a code has a per-IP limit on POST."""
    missing = {e for e in SECRET_FORMS
               if e not in LIMITED_ENDPOINTS or "POST" not in LIMITED_ENDPOINTS[e][1]}
    assert missing == set()


def test_password_change_guesses_are_rate_limited_per_ip(app, make_app):
    """The rate limit of sign-in also applies to the current-password check."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    with app.app_context():
        user = make_user()
        browser = app.test_client()
        browser.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
        assert wrong_change(browser).status_code == 200
        assert wrong_change(browser).status_code == 200
        assert wrong_change(browser).status_code == 429
