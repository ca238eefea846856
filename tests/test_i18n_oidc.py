"""English OpenID Connect pages: consent, error, sign-out confirmation and signed-out page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from .factories import auth_params, make_portal, make_user

PERSIAN = re.compile(r"[\u0600-\u06FF]")


def _heading(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)


def _buttons(html: str) -> list[str]:
    return re.findall(r'<input[^>]*type="submit"[^>]*value="([^"]*)"', html)


def test_consent_page_follows_ui_locales_en(app, client, oidc):
    """A portal that sends ui_locales=en gets an English consent page in plain words."""
    rp, _ = make_portal(name_en="Test portal")
    oidc.sign_in(make_user())
    response = oidc.authorize(auth_params(rp, scope="openid profile national_id email",
                                          ui_locales="en"))
    assert urlsplit(response.headers["Location"]).path == "/authorize/consent"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    assert _heading(html) == "Allow access for “Test portal”"
    for words in ("wants to sign you in with your account", "Basic profile", "Full name",
                  "Identity details", "National code", "Father's name", "Email address",
                  "not your national code", "withdraw it at any time"):
        assert words in html, words
    assert _buttons(html) == ["Allow", "Don't allow"]
    assert not PERSIAN.search(_heading(html) + "".join(_buttons(html)))
    assert "National code, FIDA code" in html and "، " not in html


def test_consent_page_english_falls_back_to_the_persian_client_name(app, client, oidc):
    rp, _ = make_portal()
    oidc.sign_in(make_user())
    location = oidc.authorize(auth_params(rp, ui_locales="en-US")).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert _heading(html) == "Allow access for “پورتال آزمایشی”"


def test_consent_page_stays_persian_by_default(app, client, oidc):
    rp, _ = make_portal(name_en="Test portal")
    oidc.sign_in(make_user())
    location = oidc.authorize(auth_params(rp, scope="openid profile")).headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert _heading(html) == "اجازه دسترسی به «پورتال آزمایشی»"
    assert "مشخصات پایه" in html and "نام و نام خانوادگی" in html and "، " in html
    assert _buttons(html) == ["اجازه می‌دهم", "اجازه نمی‌دهم"]


def test_error_page_in_english(client):
    response = client.get("/authorize", query_string={
        "client_id": "no-such-portal", "response_type": "code", "ui_locales": "en",
        "redirect_uri": "https://rp.example.ir/cb", "scope": "openid"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert _heading(html) == "Signing in from this service is not possible"
    assert "The service that sent you here is not known or has been disabled." in html
    assert "Error code:" in html and "400" in html and not PERSIAN.search(html.split("<main")[-1])


def test_logout_confirmation_and_signed_out_pages_in_english(app, client, oidc):
    rp, _ = make_portal(first_party=True, name_en="Test portal")
    oidc.sign_in(make_user())
    html = client.get("/logout", query_string={"client_id": rp.client_id,
                                               "ui_locales": "en"}).get_data(as_text=True)
    assert _heading(html) == "Sign out"
    assert "“Test portal” has asked you to sign out of your account." in html
    assert "Do you want to sign out of your account?" in html
    assert _buttons(html) == ["Sign out"]
    # The choice is remembered: the page after the confirmation is English too.
    done = client.post("/logout", data={"client_id": rp.client_id, "confirm": "1"})
    page = client.get("/logout") if done.status_code == 302 else done
    text = page.get_data(as_text=True)
    assert _heading(text) == "You have signed out of your account"
    assert "close the browser if you are using a shared computer" in text
