"""Single sign-on end to end through the real sign-in page, consent revocation, and what
recovery and sign-out do to the portals' tokens."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from idp.extensions import db
from idp.models import BackchannelLogoutJob, SmsMessage
from tests.factories import DEFAULT_PASSWORD, auth_params, make_portal, make_user, query_of

NEW = "Kerman1402Desert"


def path_of(response) -> str:
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sign_in_through_login(oidc, browser, client, user, **extra):
    """/authorize → /login?next=… → POST the form → back to /authorize/resume → code."""
    params = auth_params(client, **extra)
    response = oidc.authorize(params, browser=browser)
    assert urlsplit(response.headers["Location"]).path == "/login"
    login_url = path_of(response)
    page = browser.get(login_url).get_data(as_text=True)
    assert 'name="password"' in page
    response = browser.post(login_url, data={"id_code": user.id_code,
                                             "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert path_of(response).startswith("/authorize/resume")
    return browser.get(path_of(response)), params


def code_from(response, client) -> str:
    assert response.headers["Location"].startswith(client.redirect_uris[0]), \
        response.headers["Location"]
    return query_of(response)["code"]


def test_second_portal_needs_no_password(app, oidc):
    """Signed in at one portal, the citizen is not asked for a password at a second one."""
    user = make_user()
    eservices, secret_a = make_portal(first_party=True, name_fa="سرویس‌های غیرحضوری")
    profile, secret_b = make_portal(first_party=True, name_fa="پروفایل",
                                    redirect_uris=["https://profile.example.ir/cb"])
    browser = app.test_client()
    response, params = sign_in_through_login(oidc, browser, eservices, user)
    tokens = oidc.exchange(eservices, secret_a, code_from(response, eservices), params,
                           browser=browser)
    assert tokens.status_code == 200

    params = auth_params(profile)
    response = oidc.authorize(params, browser=browser)  # no /login in between
    assert urlsplit(response.headers["Location"]).path != "/login"
    answer = oidc.exchange(profile, secret_b, code_from(response, profile), params,
                           browser=browser)
    assert answer.status_code == 200 and "id_token" in answer.json


def test_login_hint_reaches_the_form(app, oidc):
    """``login_hint`` given to /authorize pre-fills the code on the sign-in page."""
    user = make_user()
    client, _ = make_portal(first_party=True)
    response = oidc.authorize(auth_params(client, login_hint=user.id_code),
                              browser=app.test_client())
    page = app.test_client().get(path_of(response)).get_data(as_text=True)
    assert f'value="{user.id_code}"' in page


def test_revoked_consent_is_asked_again(app, oidc):
    """After "revoke access" on the account page, the next authorization shows consent."""
    user = make_user()
    client, _ = make_portal()
    browser = app.test_client()
    response, _ = sign_in_through_login(oidc, browser, client, user)
    assert urlsplit(response.headers["Location"]).path == "/authorize/consent"
    key = re.search(r"key=([^&]+)", response.headers["Location"])[1]
    response = browser.post("/authorize/consent", data={"key": key, "approve": "1"})
    code_from(response, client)
    response = oidc.authorize(auth_params(client), browser=browser)
    code_from(response, client)  # consent remembered

    assert browser.post("/account/consents/revoke",
                        data={"client_id": client.client_id}).status_code == 302
    response = oidc.authorize(auth_params(client), browser=browser)
    assert urlsplit(response.headers["Location"]).path == "/authorize/consent"


def test_recovery_makes_refresh_tokens_fail(app, oidc):
    """After a password recovery the portal's refresh token is refused."""
    user = make_user()
    client, secret = make_portal(first_party=True, scope="openid profile offline_access")
    browser = app.test_client()
    response, params = sign_in_through_login(oidc, browser, client, user,
                                             scope="openid profile offline_access")
    tokens = oidc.exchange(client, secret, code_from(response, client), params,
                           browser=browser).json
    assert "refresh_token" in tokens

    other = app.test_client()
    other.post("/recover", data={"id_code": user.id_code, "method": "sms"})
    sms = db.session.scalars(select(SmsMessage).order_by(SmsMessage.id)).all()[-1]
    other.post("/recover/code", data={"code": re.search(r"#([0-9]{6})", sms.text)[1]})
    other.post("/recover/password", data={"new_password": NEW, "confirm": NEW})

    response = browser.post("/oauth/token", auth=(client.client_id, secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"
    assert browser.get("/account").status_code == 302  # the SSO session ended too


def test_idp_sign_out_triggers_back_channel_logout(app, oidc):
    """Signing out at the IdP queues a logout token for every portal of the session."""
    user = make_user()
    client, secret = make_portal(first_party=True,
                                 backchannel_logout_uri="https://rp.example.ir/backchannel")
    browser = app.test_client()
    response, params = sign_in_through_login(oidc, browser, client, user)
    oidc.exchange(client, secret, code_from(response, client), params, browser=browser)
    browser.post("/account/logout")
    job = db.session.scalar(select(BackchannelLogoutJob))
    assert job is not None and job.client_id == client.client_id
