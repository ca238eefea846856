"""The SSO session: cookie attributes, rotation at sign-in, idle and absolute expiry, sign-out."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from idp import create_app
from idp.accounts import session as sso
from idp.extensions import db
from idp.models import SsoSession
from tests.factories import DEFAULT_PASSWORD, make_user


def login(client, user, password=DEFAULT_PASSWORD):
    return client.post("/login", data={"id_code": user.id_code, "password": password})


def live_sessions(user_id):
    return list(db.session.scalars(select(SsoSession).where(
        SsoSession.user_id == user_id, SsoSession.ended_at.is_(None))))


def test_session_id_is_rotated_at_sign_in(client):
    """Signing in again sets a new random id; the session (and its ``sid``) lives on."""
    user = make_user()
    login(client, user)
    first = client.get_cookie("idp_session").value
    sid = db.session.scalar(select(SsoSession.sid))
    login(client, user)
    second = client.get_cookie("idp_session").value
    assert first != second
    rows = list(db.session.scalars(select(SsoSession).order_by(SsoSession.id)))
    assert len(rows) == 1 and rows[0].ended_at is None and rows[0].sid == sid
    # The cookie holds only the random id; the row stores its hash (of the new one).
    assert rows[0].id_hash == sso.sha256(second)
    assert first not in {rows[0].id_hash, rows[0].sid}


def test_planted_cookie_does_not_survive_sign_in(client):
    """A cookie value set before sign-in (fixation) is never the signed-in session's id."""
    user = make_user()
    client.set_cookie("idp_session", "attacker-chosen", domain="localhost")
    login(client, user)
    assert client.get_cookie("idp_session").value != "attacker-chosen"


def test_idle_timeout_ends_the_session(client, clock, app):
    """No request for longer than SESSION_IDLE_TIMEOUT: the account page asks to sign in."""
    user = make_user()
    login(client, user)
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] - 5)
    assert client.get("/account").status_code == 200  # activity refreshes last_seen_at
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] - 5)
    assert client.get("/account").status_code == 200
    clock.advance(app.config["SESSION_IDLE_TIMEOUT"] + 1)
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_absolute_lifetime_ends_an_active_session(client, clock, app):
    """Even an active session ends after SESSION_MAX_AGE."""
    user = make_user()
    login(client, user)
    step = app.config["SESSION_IDLE_TIMEOUT"] - 60
    elapsed = 0
    while elapsed + step < app.config["SESSION_MAX_AGE"]:
        clock.advance(step)
        elapsed += step
        assert client.get("/account").status_code == 200
    clock.advance(app.config["SESSION_MAX_AGE"] - elapsed + 1)
    assert client.get("/account").status_code == 302


def test_logout_ends_the_session_and_clears_the_cookie(client, app):
    """POST /account/logout ends the row, clears the cookie and sends session_ended."""
    user = make_user()
    login(client, user)
    received = []

    def listener(sender, sessions, reason):
        received.append((reason, [s.user_id for s in sessions]))

    sso.session_ended.connect(listener, app)
    try:
        response = client.post("/account/logout")
    finally:
        sso.session_ended.disconnect(listener, app)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get_cookie("idp_session") is None
    assert live_sessions(user.id) == []
    assert received == [("logout", [user.id])]
    assert client.get("/account").status_code == 302


def test_logout_page_asks_for_confirmation(client):
    """GET /account/logout shows a button (a POST with CSRF does the sign-out)."""
    user = make_user()
    login(client, user)
    page = client.get("/account/logout").get_data(as_text=True)
    assert "خروج از سامانه" in page and 'method="post"' in page
    assert len(live_sessions(user.id)) == 1


@pytest.fixture
def https_app(app_config):
    https = create_app({**app_config, "ISSUER": "https://idp.example.ir",
                        "PREFERRED_URL_SCHEME": "https"})
    with https.app_context():
        yield https
        db.session.remove()
        db.engine.dispose()


def test_https_issuer_uses_host_prefixed_secure_cookie(https_app):
    """With an https issuer the cookie is ``__Host-idp_session``, Secure, HttpOnly, Lax, path /."""
    user = make_user()
    client = https_app.test_client()
    response = client.post("/login", base_url="https://localhost",
                           data={"id_code": user.id_code, "password": DEFAULT_PASSWORD})
    header = next(h for h in response.headers.getlist("Set-Cookie")
                  if h.startswith("__Host-idp_session="))
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"secure", "httponly", "path"} <= attributes
    assert "samesite=lax" in header.lower() and "domain" not in attributes
