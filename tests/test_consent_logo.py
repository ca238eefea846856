"""Portal logos on the consent page are allowed by its CSP (issue 9, finding 16): the
consent page alone adds the origin of the portal's registered logo to ``img-src``; every
other page keeps ``img-src 'self' data:``, and a logo whose origin cannot be written
safely into the policy is not shown at all (never a blocked, broken image)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from idp.extensions import db
from idp.models import Client

from .factories import auth_params, make_portal, make_user


def img_src(response) -> str:
    return re.search(r"img-src ([^;]*)", response.headers["Content-Security-Policy"])[1]


def consent_page(client, oidc, rp):
    oidc.sign_in(make_user())
    response = oidc.authorize(auth_params(rp))
    assert response.headers["Location"].startswith("/authorize/consent")
    return client.get(response.headers["Location"])


def test_consent_page_allows_the_portals_logo_origin_only(app, client, oidc):
    rp, _ = make_portal(logo_uri="https://cdn.portal.example.ir:8443/img/logo.png?v=2")
    page = consent_page(client, oidc, rp)
    assert 'src="https://cdn.portal.example.ir:8443/img/logo.png?v=2"' in page.text
    assert img_src(page).split() == ["'self'", "data:", "https://cdn.portal.example.ir:8443"]
    # Only the consent page: the sign-in page and the account page keep the strict policy.
    assert img_src(client.get("/account")).split() == ["'self'", "data:"]
    assert img_src(client.get("/login")).split() == ["'self'", "data:"]


def test_consent_page_without_a_logo_keeps_the_strict_policy(app, client, oidc):
    rp, _ = make_portal()
    page = consent_page(client, oidc, rp)
    assert "client-logo" not in page.text
    assert img_src(page).split() == ["'self'", "data:"]


@pytest.mark.parametrize("stored", [
    "https://evil.example.ir;script-src *",
    "https://evil.example.ir\u00a0x/logo.png",
    "https://user@evil.example.ir/logo.png",
    "javascript:alert(1)",
    "https:///logo.png",
])
def test_a_logo_that_cannot_be_allowed_safely_is_not_shown(app, client, oidc, stored):
    """A stored logo URI (written before the rules, or by hand) that would not make a
    clean CSP source is left out of the page and the policy."""
    rp, _ = make_portal()
    db.session.execute(update(Client).where(Client.id == rp.id).values(logo_uri=stored))
    db.session.commit()
    page = consent_page(client, oidc, rp)
    assert "client-logo" not in page.text
    assert img_src(page).split() == ["'self'", "data:"]


def test_an_external_brand_logo_is_allowed_on_every_page(make_app):
    """BRAND_LOGO_URL on another server (a CDN) is not blocked by the pages' CSP."""
    app = make_app(BRAND_LOGO_URL="https://static.example.ir/brand/logo.svg")
    page = app.test_client().get("/login")
    assert 'src="https://static.example.ir/brand/logo.svg"' in page.text
    assert img_src(page).split() == ["'self'", "data:", "https://static.example.ir"]
    local = make_app(BRAND_LOGO_URL="/static/logo.svg").test_client().get("/login")
    assert img_src(local).split() == ["'self'", "data:"]
