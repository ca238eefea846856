"""Test helpers for the admin pages: sign in, enrol TOTP, current codes."""

from __future__ import annotations

import re

import pyotp

from idp.admin import admins
from idp.extensions import db, now
from idp.models import User
from idp.security import totp

from .factories import DEFAULT_PASSWORD, make_user

SECRET_RE = re.compile(r'class="totp-secret">([A-Z2-7]+)<')
RECOVERY_RE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


def sign_in(client, user: User, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the real /login form."""
    response = client.post("/login", data={"id_code": user.id_code, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)


def make_admin(**overrides) -> User:
    user = make_user(**overrides)
    admins.grant_admin(user.id_code)
    return user


def code_for(user: User, offset_steps: int = 0) -> str:
    """The TOTP code the admin's phone shows now (from the stored, encrypted secret)."""
    db.session.refresh(user)
    secret = totp._secret_of(user)
    return pyotp.TOTP(secret).at(now(), counter_offset=offset_steps)


def enrol(client, user: User) -> tuple[str, list[str]]:
    """Enrol TOTP through the pages; return the secret and the recovery codes shown."""
    page = client.get("/admin/enrol").get_data(as_text=True)
    secret = SECRET_RE.search(page)[1]
    code = pyotp.TOTP(secret).at(now())
    page = client.post("/admin/enrol", data={"code": code}).get_data(as_text=True)
    codes = RECOVERY_RE.findall(page)
    assert codes, page
    return secret, codes


def admin_session(client, clock, **overrides) -> User:
    """A signed-in admin who has enrolled TOTP in this session."""
    user = make_admin(**overrides)
    sign_in(client, user)
    enrol(client, user)
    clock.advance(30)  # the next TOTP code is a fresh one
    return user
