"""Signing in again inside an SSO session: the same citizen keeps the session and the
other portals; a different citizen on that browser ends it."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import BackchannelLogoutJob, SsoSession
from tests.factories import DEFAULT_PASSWORD, auth_params, make_portal, make_user, query_of

SCOPE = "openid profile"  # session-bound grants: they end with the SSO session


def path_of(response) -> str:
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def two_portals():
    eservices = make_portal(first_party=True,
                            backchannel_logout_uri="https://eservices.example.ir/bc")
    profile = make_portal(first_party=True,
                          redirect_uris=["https://profile.example.ir/cb"],
                          backchannel_logout_uri="https://profile.example.ir/bc")
    return eservices, profile


def tokens_at(oidc, browser, portal, **extra) -> dict:
    """Authorize at ``portal`` without a sign-in page (SSO) and redeem the code."""
    client, secret = portal
    code, params = oidc.get_code(client, browser=browser, scope=SCOPE, **extra)
    response = oidc.exchange(client, secret, code, params, browser=browser)
    assert response.status_code == 200, response.json
    return response.json


def sign_in_at(oidc, browser, portal, user, **extra) -> dict:
    """Authorize at ``portal``, which asks for the password; type it; redeem the code."""
    client, secret = portal
    params = auth_params(client, scope=SCOPE, **extra)
    response = oidc.authorize(params, browser=browser)
    assert urlsplit(response.headers["Location"]).path == "/login"
    login_url = path_of(response)
    response = browser.post(login_url, data={"id_code": user.id_code,
                                             "password": DEFAULT_PASSWORD})
    assert path_of(response).startswith("/authorize/resume"), response.headers["Location"]
    response = browser.get(path_of(response))
    answer = oidc.exchange(client, secret, query_of(response)["code"], params, browser=browser)
    assert answer.status_code == 200, answer.json
    return answer.json


def refresh(browser, portal, refresh_token):
    client, secret = portal
    return browser.post("/oauth/token", auth=(client.client_id, secret), data={
        "grant_type": "refresh_token", "refresh_token": refresh_token})


def jobs() -> int:
    return db.session.scalar(select(func.count()).select_from(BackchannelLogoutJob))


def test_reauthentication_keeps_the_session_and_the_other_portals(app, oidc, clock):
    """max_age=0 at one portal asks for the password again, then keeps the ``sid``, moves
    ``auth_time``, sets ``amr`` to this authentication's ``pwd``, rotates the cookie, and
    leaves the other portal signed in: its refresh token works and no back-channel logout
    is queued."""
    user = make_user()
    eservices, profile = two_portals()
    browser = app.test_client()
    oidc.sign_in(user, amr=("sms",), browser=browser)  # as registration does
    cookie_name = app.config["SSO_COOKIE_NAME"]
    first_cookie = browser.get_cookie(cookie_name).value
    at_eservices = tokens_at(oidc, browser, eservices)
    first = oidc.decode(at_eservices["id_token"], browser=browser).claims
    tokens_at(oidc, browser, profile)

    clock.advance(600)
    again = sign_in_at(oidc, browser, profile, user, max_age="0")
    claims = oidc.decode(again["id_token"], browser=browser).claims
    assert claims["sid"] == first["sid"]
    assert claims["auth_time"] == first["auth_time"] + 600
    assert claims["amr"] == ["pwd"]

    assert jobs() == 0
    renewed = refresh(browser, eservices, at_eservices["refresh_token"])
    assert renewed.status_code == 200, renewed.json
    assert db.session.scalar(select(func.count()).select_from(SsoSession)) == 1

    # Fixation: the cookie changed, and the old value opens nothing.
    assert browser.get_cookie(cookie_name).value != first_cookie
    assert browser.get("/account").status_code == 200
    stale = app.test_client()
    stale.set_cookie(cookie_name, first_cookie, domain="localhost")
    assert stale.get("/account").status_code == 302


def test_signing_in_again_at_login_keeps_the_portals(app, oidc, auth, clock):
    """The same citizen typing the password again at /login keeps the portals' grants."""
    user = make_user()
    eservices, _ = two_portals()
    browser = app.test_client()
    at_eservices = sign_in_at(oidc, browser, eservices, user)
    clock.advance(60)
    auth.sign_in(user, browser=browser)
    assert jobs() == 0
    assert refresh(browser, eservices, at_eservices["refresh_token"]).status_code == 200


def test_another_citizen_ends_the_previous_session(app, oidc, auth):
    """A different citizen signing in on the browser ends the previous citizen's session:
    its portals get back-channel logout jobs and its grants are revoked."""
    first, second = make_user(), make_user()
    eservices, profile = two_portals()
    browser = app.test_client()
    at_eservices = sign_in_at(oidc, browser, eservices, first)
    tokens_at(oidc, browser, profile)
    old_sid = db.session.scalar(select(SsoSession.sid))

    auth.sign_in(second, browser=browser)
    queued = db.session.scalars(select(BackchannelLogoutJob)).all()
    assert sorted(j.client_id for j in queued) == sorted(
        [eservices[0].client_id, profile[0].client_id])
    response = refresh(browser, eservices, at_eservices["refresh_token"])
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"
    ended = db.session.scalar(select(SsoSession).where(SsoSession.sid == old_sid))
    db.session.refresh(ended)
    assert ended.ended_at is not None
    page = browser.get("/account").get_data(as_text=True)
    assert second.first_name in page
