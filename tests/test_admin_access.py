"""Who gets into /admin: admins only, after a TOTP step at each sign-in; enrolment and
recovery codes; the admin idle timeout; grant-admin/revoke-admin."""

from __future__ import annotations

import re

import pyotp
import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.messages import message
from idp.models import AdminRecoveryCode, AuditEvent, SsoSession, User
from idp.security import totp

from .factories import make_admin, make_user

ADMIN_PAGES = ["/admin/", "/admin/clients", "/admin/clients/new", "/admin/users",
               "/admin/audit", "/admin/audit.csv", "/admin/registration-tokens"]


def live_session(user) -> SsoSession:
    return db.session.scalar(select(SsoSession).where(
        SsoSession.user_id == user.id, SsoSession.ended_at.is_(None)))


def events(name):
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.event == name)))


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin")


@pytest.mark.parametrize("path", ADMIN_PAGES + ["/admin/enrol", "/admin/verify"])
def test_citizen_without_admin_role_is_refused(client, path, auth):
    """A signed-in citizen gets 403 with a Persian page, and the attempt is audited."""
    user = make_user()
    auth.sign_in(user)
    response = client.get(path)
    assert response.status_code == 403
    assert "حساب شما دسترسی مدیریتی ندارد" in response.get_data(as_text=True)
    assert events("admin_access_denied")[0].user_id == user.id


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_without_totp_is_sent_to_enrolment(client, path, auth):
    user = make_admin()
    auth.sign_in(user)
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/enrol?next=")


def test_enrolment_shows_the_secret_once_and_gives_recovery_codes(client, app, auth):
    """QR and secret appear on the enrolment page only; codes are shown once, stored hashed."""
    user = make_admin()
    auth.sign_in(user)
    first = client.get("/admin/enrol").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in first
    old_secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', first)[1]
    secret, codes = auth.enrol(user)  # a new visit makes a new secret
    assert secret != old_secret
    assert len(codes) == app.config["ADMIN_RECOVERY_CODES"] == len(set(codes))

    db.session.refresh(user)
    assert user.totp_confirmed_at is not None and secret not in user.totp_secret
    stored = db.session.scalars(select(AdminRecoveryCode.code_hash)).all()
    assert len(stored) == len(codes)
    assert not {c.replace("-", "") for c in codes} & set(stored)

    row = live_session(user)
    assert row.is_admin and {"pwd", "otp", "mfa"} <= set(row.amr)
    assert events("admin_totp_enrolled")[0].user_id == user.id
    # The secret is never shown again: the enrolment page now leads to the TOTP step.
    again = client.get("/admin/enrol")
    assert again.status_code == 302 and secret not in again.get_data(as_text=True)
    assert client.get("/admin/").status_code == 200


def test_wrong_enrolment_code_keeps_the_pending_secret(client, auth):
    user = make_admin()
    auth.sign_in(user)
    page = client.get("/admin/enrol").get_data(as_text=True)
    secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', page)[1]
    wrong = client.post("/admin/enrol", data={"code": "000000"}).get_data(as_text=True)
    assert message("totp_invalid") in wrong and secret in wrong
    assert not live_session(user).is_admin


def test_totp_asked_at_each_admin_sign_in(client, clock, auth):
    user = auth.admin_session()
    client.post("/account/logout")
    auth.sign_in(user)
    response = client.get("/admin/clients")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/verify?next=/admin/clients"
    page = client.post("/admin/verify", data={"code": "123456"}).get_data(as_text=True)
    assert message("totp_invalid") in page
    response = client.post("/admin/verify?next=/admin/clients", data={"code": auth.code_for(user)})
    assert response.headers["Location"] == "/admin/clients"
    row = live_session(user)
    assert row.is_admin and "otp" in row.amr
    assert client.get("/admin/clients").status_code == 200
    assert [e.data["method"] for e in events("admin_signed_in")] == ["totp", "totp"]


def test_a_totp_code_is_accepted_once(client, clock, app, auth):
    """The same code cannot open a second session (replay), even within its 30 s."""
    user = auth.admin_session()
    code = auth.code_for(user)
    other = app.test_client()
    auth.sign_in(user, browser=other)
    assert other.post("/admin/verify", data={"code": code}).status_code == 302
    third = app.test_client()
    auth.sign_in(user, browser=third)
    page = third.post("/admin/verify", data={"code": code}).get_data(as_text=True)
    assert message("totp_invalid") in page


def test_unsafe_next_is_ignored(client, clock, auth):
    user = auth.admin_session()
    client.post("/account/logout")
    auth.sign_in(user)
    response = client.post("/admin/verify?next=https://evil.example/",
                           data={"code": auth.code_for(user)})
    assert response.headers["Location"] == "/admin/"


def test_recovery_code_works_once(client, clock, app, auth):
    user = make_admin()
    auth.sign_in(user)
    _, codes = auth.enrol(user)
    second = app.test_client()
    auth.sign_in(user, browser=second)
    response = second.post("/admin/verify", data={"code": codes[0].upper()})
    assert response.status_code == 302
    assert "۹" in second.get("/admin/").get_data(as_text=True)  # nine codes left
    third = app.test_client()
    auth.sign_in(user, browser=third)
    page = third.post("/admin/verify", data={"code": codes[0]}).get_data(as_text=True)
    assert message("totp_invalid") in page
    assert [e.data["method"] for e in events("admin_signed_in")][-1] == "recovery"


def test_too_many_wrong_codes_end_the_session(client, clock, app, auth):
    user = auth.admin_session()
    client.post("/account/logout")
    auth.sign_in(user)
    for _ in range(app.config["ADMIN_TOTP_MAX_FAILURES"] - 1):
        assert client.post("/admin/verify", data={"code": "000000"}).status_code == 200
    response = client.post("/admin/verify", data={"code": "000000"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert live_session(user) is None
    assert len(events("admin_totp_failed")) == app.config["ADMIN_TOTP_MAX_FAILURES"]


def test_wrong_codes_count_across_sign_ins(client, clock, app, auth):
    """A new sign-in buys no new guesses: after ADMIN_TOTP_MAX_FAILURES wrong codes the
    step is refused, even with the right code, for ADMIN_TOTP_LOCKOUT_SECONDS."""
    user = auth.admin_session()
    client.post("/account/logout")
    limit = app.config["ADMIN_TOTP_MAX_FAILURES"]
    # A success clears the count: limit - 1 failures before it, one after it.
    auth.sign_in(user)
    for _ in range(limit - 1):
        client.post("/admin/verify", data={"code": "000000"})
    assert client.post("/admin/verify", data={"code": auth.code_for(user)}).status_code == 302
    client.post("/account/logout")
    clock.advance(30)
    auth.sign_in(user)
    assert client.post("/admin/verify", data={"code": "000000"}).status_code == 200
    for _ in range(limit - 1):
        client.post("/admin/verify", data={"code": "000000"})
    assert live_session(user) is None

    auth.sign_in(user)
    response = client.post("/admin/verify", data={"code": auth.code_for(user)})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert live_session(user) is None
    assert client.get("/admin/").status_code == 302

    clock.advance(app.config["ADMIN_TOTP_LOCKOUT_SECONDS"] + 1)
    auth.sign_in(user)
    response = client.post("/admin/verify", data={"code": auth.code_for(user)})
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_admin_session_has_the_shorter_idle_timeout(client, clock, app, auth):
    auth.admin_session()
    assert client.get("/admin/").status_code == 200
    clock.advance(app.config["ADMIN_IDLE_TIMEOUT"] + 1)
    assert app.config["ADMIN_IDLE_TIMEOUT"] < app.config["SESSION_IDLE_TIMEOUT"]
    response = client.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_grant_and_revoke_admin_from_the_cli(client, clock, runner, auth):
    user = make_user()
    result = runner.invoke(args=["users", "grant-admin", user.id_code])
    assert result.exit_code == 0 and db.session.get(User, user.id).is_admin
    auth.sign_in(user)
    auth.enrol(user)
    assert client.get("/admin/").status_code == 200

    result = runner.invoke(args=["users", "revoke-admin", user.id_code])
    assert result.exit_code == 0
    db.session.expire_all()
    user = db.session.get(User, user.id)
    # The role goes; the authenticator app stays: it is also the citizen's own second
    # factor (level 2 for portals), which a revoked role must not take away.
    assert not user.is_admin and user.totp_secret is not None
    assert db.session.scalars(select(AdminRecoveryCode)).all() != []
    response = client.get("/admin/")  # the admin session ended
    assert response.status_code == 302
    assert [e.event for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.event.in_(["admin_granted", "admin_revoked"])))] == ["admin_granted",
                                                                       "admin_revoked"]
    unknown = runner.invoke(args=["users", "grant-admin", "0012345679"])
    assert unknown.exit_code == 1 and "user_not_found" in unknown.output


def test_grant_admin_reset_totp_makes_the_admin_enrol_again(client, clock, runner, auth):
    user = auth.admin_session()
    result = runner.invoke(args=["users", "grant-admin", user.id_code, "--reset-totp"])
    assert result.exit_code == 0
    assert client.get("/admin/").status_code == 302  # admin session ended
    auth.sign_in(user)
    response = client.get("/admin/")
    assert response.headers["Location"].startswith("/admin/enrol")


def test_totp_secret_is_encrypted_with_its_own_key(client, app, make_app, auth):
    """The stored value is a Fernet token; with another key the admin must re-enrol."""
    user = make_admin()
    auth.sign_in(user)
    secret, _ = auth.enrol(user)
    db.session.refresh(user)
    assert user.totp_secret.startswith("gAAAA") and secret not in user.totp_secret
    assert totp._secret_of(user) == secret
    with make_app(ADMIN_TOTP_SECRET="another-key").app_context():
        assert totp._secret_of(user) is None


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "WTF_CSRF_ENABLED": True}

    def test_totp_form_needs_its_csrf_token(self, client, clock):
        user = make_admin()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        client.post("/login", data={"id_code": user.id_code, "password": "Secret123",
                                    "csrf_token": token})
        page = client.get("/admin/enrol").get_data(as_text=True)
        secret = re.search(r'class="totp-secret">([A-Z2-7]+)<', page)[1]
        code = pyotp.TOTP(secret).at(clock.now())
        assert client.post("/admin/enrol", data={"code": code}).status_code == 400
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
        response = client.post("/admin/enrol", data={"code": code, "csrf_token": token})
        assert response.status_code == 200 and "کدهای بازیابی" in response.get_data(as_text=True)
