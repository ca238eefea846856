"""Accounts that must change their password get no session until they choose a new one."""

from __future__ import annotations

from sqlalchemy import select

from idp.accounts import passwords
from idp.extensions import db
from idp.messages import message
from idp.models import SmsMessage, SsoSession, User
from tests.factories import DEFAULT_PASSWORD, make_user

NEW = "Yazd1401Windcatcher"


def test_must_change_password_before_the_session(client):
    """Right password → the new-password step; only then the session and ``next``."""
    user = make_user(must_change_password=True)
    response = client.post("/login", query_string={"next": "/authorize?x=1"},
                           data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    assert response.headers["Location"] == "/login/new-password"
    assert db.session.scalar(select(SsoSession)) is None
    assert client.get("/account").status_code == 302
    page = client.get("/login/new-password").get_data(as_text=True)
    assert "ثبت گذرواژه جدید" in page
    page = client.post("/login/new-password", data={
        "new_password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD}).get_data(as_text=True)
    assert message("password_too_common") in page  # Secret123 is a common password
    response = client.post("/login/new-password", data={"new_password": NEW, "confirm": NEW})
    assert response.headers["Location"] == "/authorize?x=1"
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert not stored.must_change_password and passwords.verify_password(stored.password_hash,
                                                                          NEW)
    assert client.get("/account").status_code == 200
    assert db.session.scalar(select(SmsMessage)).template == "password_changed"


def test_new_password_step_expires(client, clock, app):
    """After PASSWORD_CHANGE_TTL the citizen has to sign in again."""
    user = make_user(must_change_password=True)
    client.post("/login", data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    clock.advance(app.config["PASSWORD_CHANGE_TTL"] + 1)
    response = client.post("/login/new-password", data={"new_password": NEW, "confirm": NEW})
    assert response.headers["Location"] == "/login"
    db.session.expire_all()
    assert db.session.get(User, user.id).must_change_password


def test_new_password_step_needs_a_sign_in(client):
    """Without a fresh sign-in the step is not reachable."""
    assert client.get("/login/new-password").headers["Location"] == "/login"
