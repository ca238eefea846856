"""The account forms with CSRF protection switched on (as in production)."""

from __future__ import annotations

import re

import pytest

from idp.extensions import db
from idp.models import SsoSession, User
from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.fixture
def app_config(app_config):
    return {**app_config, "WTF_CSRF_ENABLED": True}


def token(response) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                     response.get_data(as_text=True))[1]


def test_login_without_token_is_refused(client):
    """A sign-in POST without the form's token is a 400 error page, no session."""
    user = make_user()
    response = client.post("/login", data={"id_code": user.id_code,
                                           "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "درخواست نامعتبر" in response.get_data(as_text=True)
    assert db.session.query(SsoSession).count() == 0
    assert db.session.get(User, user.id).failed_logins == 0


def test_login_and_password_change_with_tokens(client):
    """With the tokens from the pages, sign-in and password change work."""
    user = make_user()
    response = client.post("/login", data={
        "csrf_token": token(client.get("/login")), "id_code": user.id_code,
        "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    new = "Mashhad1402Reza"
    data = {"current_password": DEFAULT_PASSWORD, "new_password": new, "confirm": new}
    assert client.post("/account/password", data=data).status_code == 400
    data["csrf_token"] = token(client.get("/account/password"))
    assert client.post("/account/password", data=data).status_code == 302


def test_sign_out_needs_the_token(client):
    """A cross-site POST cannot sign the citizen out; the page's button can."""
    user = make_user()
    client.post("/login", data={"csrf_token": token(client.get("/login")),
                                "id_code": user.id_code, "password": DEFAULT_PASSWORD})
    assert client.post("/account/logout").status_code == 400
    assert client.get("/account").status_code == 200
    response = client.post("/account/logout",
                           data={"csrf_token": token(client.get("/account/logout"))})
    assert response.status_code == 302
    assert client.get("/account").status_code == 302
