"""Sign-in: the form, generic errors, lockout, blocked accounts, rehash, next and login_hint."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from idp import settings
from idp.accounts import passwords
from idp.extensions import db
from idp.messages import message
from idp.models import AuditEvent, SsoSession, User
from tests.factories import DEFAULT_PASSWORD, make_user

GENERIC = message("login_failed")


def login(client, id_code, password=DEFAULT_PASSWORD, **query):
    return client.post("/login", query_string=query,
                       data={"id_code": id_code, "password": password})


def events(name):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


def test_login_page_has_links_and_ltr_inputs(client):
    """The form has the code and password fields (ltr), the button and both links."""
    page = client.get("/login").get_data(as_text=True)
    assert "ورود به سامانه" in page and ">ورود</button>" in page
    assert 'name="id_code"' in page and 'dir="ltr"' in page
    assert 'autocomplete="current-password"' in page
    assert 'href="/register"' in page and "فراموشی گذرواژه" in page


def test_login_ok_starts_session_and_redirects(client):
    """Right code and password: a session row, the cookie, a redirect to the account page."""
    user = make_user()
    response = login(client, user.id_code)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    cookie = client.get_cookie("idp_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    row = db.session.scalar(select(SsoSession).where(SsoSession.user_id == user.id))
    assert row.amr == ["pwd"] and row.ended_at is None
    assert events("login_ok")[0].user_id == user.id
    assert client.get("/account").status_code == 200


def test_login_accepts_persian_digits(client):
    """A code typed with Persian digits signs in."""
    user = make_user()
    persian = user.id_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert login(client, persian).status_code == 302


def test_wrong_password_is_generic(client):
    """A wrong password shows the generic message, keeps the code and starts no session."""
    user = make_user()
    response = login(client, user.id_code, "Wrong1234")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and GENERIC in page
    assert f'value="{user.id_code}"' in page and "Wrong1234" not in page
    assert db.session.scalar(select(SsoSession)) is None
    assert db.session.get(User, user.id).failed_logins == 1


def test_unknown_account_answers_like_a_wrong_password(client, monkeypatch):
    """Unknown code: same status, same template, same message; the dummy hash is verified."""
    user = make_user()
    calls = []
    original = passwords.verify_password

    def spy(stored_hash, password):
        calls.append(stored_hash)
        return original(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", spy)
    known = login(client, user.id_code, "Wrong1234")
    unknown = login(client, "0012345679", "Wrong1234")
    assert known.status_code == unknown.status_code == 200
    assert (known.get_data(as_text=True).replace(user.id_code, "0012345679")
            == unknown.get_data(as_text=True))
    assert calls == [user.password_hash, None]  # None → the dummy hash is verified
    assert events("login_failed")[-1].data["reason"] == "unknown_account"


@pytest.mark.parametrize("code", ["12345", "0012345678", "1111111111", "abc"])
def test_malformed_code_is_refused_by_the_form(client, code):
    """A code that is not 10/12 digits with a right check digit gets a field error."""
    response = login(client, code)
    assert message("id_code_invalid") in response.get_data(as_text=True)
    assert events("login_failed") == []


def test_lockout_after_repeated_failures(client, clock, app, configure):
    """LOGIN_MAX_FAILURES wrong passwords lock the account; it opens again after the delay."""
    configure(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_SECONDS=600)
    user = make_user()
    for _ in range(2):
        assert GENERIC in login(client, user.id_code, "Wrong1234").get_data(as_text=True)
    page = login(client, user.id_code, "Wrong1234").get_data(as_text=True)
    locked = message("account_temporarily_locked", minutes="۱۰")
    assert locked in page
    assert len(events("login_lockout")) == 1
    # Even the right password is refused while locked.
    assert locked in login(client, user.id_code).get_data(as_text=True)
    assert db.session.scalar(select(SsoSession)) is None
    clock.advance(301)
    assert message("account_temporarily_locked", minutes="۵") in login(
        client, user.id_code).get_data(as_text=True)
    clock.advance(300)
    assert login(client, user.id_code).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def test_unknown_code_locks_exactly_like_an_account(client, clock, app, configure):
    """An unknown code answers the same pages in the same order as an existing account, so
    "temporarily locked" does not reveal that an account exists."""
    from tests.factories import national_code

    configure(LOGIN_MAX_FAILURES=3, LOGIN_LOCKOUT_SECONDS=600)
    user, unknown = make_user(), national_code()
    for code in (user.id_code, unknown):
        pages = [login(client, code, "Wrong1234").get_data(as_text=True) for _ in range(4)]
        assert [GENERIC in page for page in pages] == [True, True, False, False]
        locked = message("account_temporarily_locked", minutes="۱۰")
        assert locked in pages[2] and locked in pages[3]
    clock.advance(601)
    assert GENERIC in login(client, unknown, "Wrong1234").get_data(as_text=True)


def test_success_resets_failure_counter(client):
    """A right password after some failures starts from zero again."""
    user = make_user()
    login(client, user.id_code, "Wrong1234")
    login(client, user.id_code)
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


@pytest.mark.parametrize("status", ["locked", "disabled", "deceased"])
def test_blocked_accounts_get_their_message_and_no_session(client, status):
    """Locked, disabled and deceased accounts: a clear message and no session."""
    user = make_user(status=status)
    page = login(client, user.id_code).get_data(as_text=True)
    assert message(f"account_{status}") in page
    assert db.session.scalar(select(SsoSession)) is None
    # Without the right password the status is not revealed.
    page = login(client, user.id_code, "Wrong1234").get_data(as_text=True)
    assert GENERIC in page and message(f"account_{status}") not in page


def test_hash_is_upgraded_when_parameters_changed(client, app):
    """A hash made with other argon2 parameters is replaced at the next sign-in."""
    user = make_user()
    old_hash = user.password_hash
    app.extensions["idp.password_hasher"] = passwords.make_hasher(
        dataclasses.replace(settings.current(), password_argon2_time_cost=2))
    assert passwords.needs_rehash(old_hash)
    assert login(client, user.id_code).status_code == 302
    db.session.expire_all()
    new_hash = db.session.get(User, user.id).password_hash
    assert new_hash != old_hash and not passwords.needs_rehash(new_hash)
    assert "t=2" in new_hash
    assert events("password_rehashed")


def test_next_is_followed_when_relative(client):
    """A same-site relative ``next`` is where the sign-in returns."""
    user = make_user()
    response = login(client, user.id_code, next="/authorize?client_id=x&state=1")
    assert response.headers["Location"] == "/authorize?client_id=x&state=1"


@pytest.mark.parametrize("bad", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                 "javascript:alert(1)", "account", "/a\nb"])
def test_unsafe_next_is_ignored(client, bad):
    """An absolute, protocol-relative or odd ``next`` is ignored."""
    user = make_user()
    response = login(client, user.id_code, next=bad)
    assert response.headers["Location"] == "/account"


def test_login_hint_prefills_the_code(client):
    """``login_hint`` fills the code field (Persian digits folded); junk is ignored."""
    page = client.get("/login?login_hint=۰۰۱۲۳۴۵۶۷۹").get_data(as_text=True)
    assert 'value="0012345679"' in page
    page = client.get("/login?login_hint=<script>").get_data(as_text=True)
    assert "<script>" not in page


def test_form_shown_even_inside_a_session(client):
    """GET /login inside a session still shows the form (prompt=login)."""
    user = make_user()
    login(client, user.id_code)
    page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' in page


def test_account_page_requires_sign_in(client):
    """Anonymous visitors of /account go to the sign-in page with ``next``."""
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/account")
