"""A citizen's authenticator app (TOTP): enrolment on the account page, use at sign-in,
replay, wrong codes into the password lockout, recovery codes, removal and the
"always ask for my second factor" preference."""

from __future__ import annotations

import pyotp
from sqlalchemy import select

from idp.extensions import db, now
from idp.messages import message
from idp.models import AuditEvent, SsoSession, User
from idp.security import totp

from .factories import RECOVERY_CODE_RE, TOTP_SECRET_RE, make_user

ENROL = "/account/second-factor/enrol"


def events(name):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def live_session(user) -> SsoSession | None:
    return db.session.scalar(select(SsoSession).where(
        SsoSession.user_id == user.id, SsoSession.ended_at.is_(None)))


def enrol(browser, next_url: str | None = None) -> tuple[str, list[str]]:
    """Enrol an app from the account page; return the secret and the recovery codes."""
    url = ENROL + (f"?next={next_url}" if next_url else "")
    page = browser.get(url).get_data(as_text=True)
    secret = TOTP_SECRET_RE.search(page)[1]
    page = browser.post(url, data={"code": pyotp.TOTP(secret).at(now())}).get_data(as_text=True)
    codes = RECOVERY_CODE_RE.findall(page)
    assert codes, page
    return secret, codes


def code_of(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(now(), counter_offset=offset)


def citizen_with_app(client, auth, **overrides) -> tuple[User, str, list[str]]:
    user = make_user(**overrides)
    auth.sign_in(user)
    secret, codes = enrol(client)
    return user, secret, codes


def test_account_page_offers_the_app_until_enrolled(client, auth):
    """The section links to enrolment; once enrolled it shows removal and the preference."""
    user = make_user()
    auth.sign_in(user)
    page = client.get("/account").get_data(as_text=True)
    assert 'id="second-factor"' in page and ENROL in page
    enrol(client)
    page = client.get("/account").get_data(as_text=True)
    assert "/account/second-factor/remove" in page and ENROL not in page
    assert "همیشه کد دوم را بپرس" in page


def test_enrolment_shows_qr_once_gives_recovery_codes_and_raises_the_session(
        client, app, auth):
    user = make_user()
    auth.sign_in(user)
    first = client.get(ENROL).get_data(as_text=True)
    assert 'src="data:image/svg+xml' in first
    old = TOTP_SECRET_RE.search(first)[1]
    secret, codes = enrol(client)
    assert secret != old and len(codes) == app.config["ADMIN_RECOVERY_CODES"]
    db.session.refresh(user)
    assert totp.is_enrolled(user) and secret not in user.totp_secret
    row = live_session(user)
    assert row.amr == ["pwd", "otp", "mfa"] and row.acr == "urn:idp:loa:2"
    assert events("totp_enrolled")[0].user_id == user.id
    # Never shown again: the enrolment page now sends back to the account page.
    again = client.get(ENROL)
    assert again.status_code == 302 and secret not in again.get_data(as_text=True)


def test_wrong_enrolment_code_keeps_the_pending_secret(client, auth):
    user = make_user()
    auth.sign_in(user)
    secret = TOTP_SECRET_RE.search(client.get(ENROL).get_data(as_text=True))[1]
    response = client.post(ENROL, data={"code": "000000"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and message("totp_invalid") in page and secret in page
    db.session.refresh(user)
    assert not totp.is_enrolled(user)


def test_enrolment_needs_a_session(client):
    response = client.get(ENROL)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_always_ask_makes_every_sign_in_ask_the_code(client, clock, auth):
    user, secret, _ = citizen_with_app(client, auth)
    response = client.post("/account/second-factor/preference", data={"always": "1"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.always_second_factor
    client.post("/account/logout")

    response = client.post("/login?next=/account", data={"id_code": user.id_code,
                                                          "password": "Secret123"})
    assert response.headers["Location"] == "/login/verify"
    assert live_session(user) is None  # no session before the code
    page = client.get("/login/verify").get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page
    clock.advance(30)
    response = client.post("/login/verify", data={"code": code_of(secret)})
    assert response.headers["Location"] == "/account"
    row = live_session(user)
    assert row.amr == ["pwd", "otp", "mfa"] and row.acr == "urn:idp:loa:2"
    assert [e.data["method"] for e in events("second_factor_passed")] == ["totp", "totp"]


def test_without_the_preference_sign_in_asks_no_code(client, auth):
    user, _, _ = citizen_with_app(client, auth)
    client.post("/account/logout")
    response = client.post("/login?next=/account", data={"id_code": user.id_code,
                                                          "password": "Secret123"})
    assert response.headers["Location"] == "/account"
    assert live_session(user).amr == ["pwd"]


def test_preference_needs_an_app(client, auth):
    user = make_user()
    auth.sign_in(user)
    client.post("/account/second-factor/preference", data={"always": "1"})
    db.session.refresh(user)
    assert not user.always_second_factor
    assert events("second_factor_preference") == []


def _sign_in_to_code_page(client, user):
    response = client.post("/login", data={"id_code": user.id_code, "password": "Secret123"})
    assert response.headers["Location"] == "/login/verify"


def test_a_code_is_accepted_once(client, app, clock, auth):
    """The same code cannot complete a second sign-in (replay), even within its 30 s."""
    user, secret, _ = citizen_with_app(client, auth, always_second_factor=True)
    clock.advance(30)
    code = code_of(secret)
    other, third = app.test_client(), app.test_client()
    _sign_in_to_code_page(other, user)
    assert other.post("/login/verify", data={"code": code}).headers["Location"] == "/account"
    _sign_in_to_code_page(third, user)
    page = third.post("/login/verify", data={"code": code}).get_data(as_text=True)
    assert message("totp_invalid") in page
    assert events("totp_failed")[0].user_id == user.id


def test_wrong_codes_count_into_the_password_lockout(client, app, clock, auth, configure):
    """Wrong codes lock the account like wrong passwords and end the sign-in."""
    configure(LOGIN_MAX_FAILURES=3, ADMIN_TOTP_MAX_FAILURES=10)
    user, secret, _ = citizen_with_app(client, auth, always_second_factor=True)
    client.post("/account/logout")
    _sign_in_to_code_page(client, user)
    for _ in range(2):
        page = client.post("/login/verify", data={"code": "000000"}).get_data(as_text=True)
        assert message("totp_invalid") in page
    db.session.refresh(user)
    assert user.failed_logins == 2
    response = client.post("/login/verify", data={"code": "000000"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    db.session.refresh(user)
    assert user.locked_until is not None and live_session(user) is None
    assert len(events("totp_failed")) == 3 and len(events("login_lockout")) == 1
    # Locked: even the right password is refused now.
    page = client.post("/login", data={"id_code": user.id_code, "password": "Secret123"})
    assert "ورود به این حساب تا" in page.get_data(as_text=True)


def test_a_correct_password_buys_no_new_code_guesses(client, clock, auth, configure):
    """The TOTP window counts across sign-ins: signing in again does not reset it."""
    configure(LOGIN_MAX_FAILURES=50, ADMIN_TOTP_MAX_FAILURES=3)
    user, secret, _ = citizen_with_app(client, auth, always_second_factor=True)
    client.post("/account/logout")
    _sign_in_to_code_page(client, user)
    for _ in range(2):
        client.post("/login/verify", data={"code": "000000"})
    _sign_in_to_code_page(client, user)  # the password again
    response = client.post("/login/verify", data={"code": "000000"})
    assert response.headers["Location"].startswith("/login")
    _sign_in_to_code_page(client, user)
    clock.advance(30)
    response = client.post("/login/verify", data={"code": code_of(secret)})  # even the right one
    assert response.headers["Location"].startswith("/login") and live_session(user) is None
    assert events("second_factor_passed") == [events("second_factor_passed")[0]]  # enrolment


def test_recovery_code_works_once(client, clock, app, auth):
    user, _, codes = citizen_with_app(client, auth, always_second_factor=True)
    client.post("/account/logout")
    _sign_in_to_code_page(client, user)
    response = client.post("/login/verify", data={"code": codes[0]})
    assert response.headers["Location"] == "/account"
    assert totp.recovery_codes_left(user) == len(codes) - 1
    other = app.test_client()
    _sign_in_to_code_page(other, user)
    page = other.post("/login/verify", data={"code": codes[0]}).get_data(as_text=True)
    assert message("totp_invalid") in page


def test_removal_needs_the_password_and_counts_wrong_ones(client, auth, configure):
    configure(LOGIN_MAX_FAILURES=2)
    user, _, _ = citizen_with_app(client, auth, always_second_factor=True)
    page = client.post("/account/second-factor/remove", data={"password": "Wrong1234"})
    assert message("current_password_wrong") in page.get_data(as_text=True)
    db.session.refresh(user)
    assert totp.is_enrolled(user) and user.failed_logins == 1
    response = client.post("/account/second-factor/remove", data={"password": "Wrong1234"})
    assert response.headers["Location"].startswith("/login")  # locked: signed out
    db.session.refresh(user)
    assert totp.is_enrolled(user) and user.locked_until is not None


def test_removal_forgets_the_app_and_the_preference(client, auth):
    user, _, _ = citizen_with_app(client, auth, always_second_factor=True)
    response = client.post("/account/second-factor/remove", data={"password": "Secret123"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert not totp.is_enrolled(user) and not user.always_second_factor
    assert totp.recovery_codes_left(user) == 0
    assert events("totp_removed")[0].user_id == user.id


def test_factor_changes_go_through_the_notice_hook(client, auth, monkeypatch):
    """One function announces added and removed factors (the notices branch wires it)."""
    from idp.accounts import factors

    calls = []
    monkeypatch.setattr(factors, "notify_factor_changed",
                        lambda user, factor, added: calls.append((user.id, factor, added)))
    user, _, _ = citizen_with_app(client, auth)
    client.post("/account/second-factor/remove", data={"password": "Secret123"})
    assert calls == [(user.id, "totp", True), (user.id, "totp", False)]


def test_admin_area_still_asks_its_own_step(client, auth):
    """A citizen's level-2 session is no admin session: the admin step stays separate."""
    user = auth.admin_session()
    row = live_session(user)
    assert row.is_admin and row.acr == "urn:idp:loa:2"


def test_code_page_without_a_sign_in_sends_to_sign_in(client):
    response = client.get("/login/verify")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_code_page_is_skipped_when_nothing_is_missing(client, auth):
    """A session without an app (or already at level 2) has nothing to give here."""
    auth.sign_in(make_user())
    response = client.get("/login/verify?next=/account")
    assert response.status_code == 302 and response.headers["Location"] == "/account"
