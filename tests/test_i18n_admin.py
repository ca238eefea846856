"""The administration pages in English (``?lang=en``), and still Persian by default."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask_babel import force_locale

from idp.extensions import now
from idp.messages import MESSAGES, message

from .factories import RECOVERY_CODE_RE, TOTP_SECRET_RE, make_admin, make_client, make_user

PERSIAN = re.compile("[\u0600-\u06ff]")
FORM = {"name_fa": "پورتال بیمه", "name_en": "Insurance", "client_type": "confidential",
        "redirect_uris": "https://bime.example.ir/cb", "scope": ["openid"],
        "id_token_signed_response_alg": "RS256", "subject_type": "public",
        "token_endpoint_auth_method": ""}


def page(client, path, **kwargs):
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def heading(html: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)[1]


def buttons(html: str) -> list[str]:
    return re.findall(r"<button[^>]*>(.*?)</button>", html, re.S)


def assert_english(html: str, *texts: str, data: str = "") -> None:
    """English page: the texts are there, and the heading and buttons have no Persian
    (apart from ``data``, such as a client's Persian name)."""
    assert '<html lang="en" dir="ltr">' in html
    for text in texts:
        assert text in html, text
    title = heading(html).replace(data, "") if data else heading(html)
    assert not PERSIAN.search(title), title
    for label in buttons(html):
        assert not PERSIAN.search(label), label


@pytest.fixture
def admin(client, auth):
    user = auth.admin_session()
    client.get("/admin/?lang=en")
    return user


def test_enrolment_verification_and_recovery_codes_in_english(client, clock, app, auth):
    user = make_admin()
    auth.sign_in(user)
    html = page(client, "/admin/enrol?lang=en")
    assert_english(html, "Set up two-step verification", "Or enter this key manually:",
                   "Verification code", "Activate")
    wrong = client.post("/admin/enrol", data={"code": "000000"}).get_data(as_text=True)
    assert "The verification code is wrong or has expired." in wrong
    second = app.test_client()
    auth.sign_in(user, browser=second)
    _, codes = auth.enrol(user)
    html = page(second, "/admin/verify?lang=en")
    assert_english(html, "Administrator two-step verification", "Verify",
                   "enter one of your recovery codes")
    assert "This field is required." in second.post("/admin/verify", data={"code": ""}) \
        .get_data(as_text=True)
    response = second.post("/admin/verify", data={"code": codes[0]})
    assert response.status_code == 302
    home = page(second, "/admin/")
    assert "A recovery code was used; 9 codes are left." in home
    assert_english(home, "System administration", f"Welcome, {user.full_name}.",
                   "Your remaining recovery codes", "Security events", "Sign out")
    clock.advance(30)
    assert auth.code_for(user)  # the enrolled secret is still readable


def test_recovery_codes_page_in_english(client, auth):
    user = make_admin()
    auth.sign_in(user)
    html = page(client, "/admin/enrol?lang=en")
    secret = TOTP_SECRET_RE.search(html)[1]
    html = client.post("/admin/enrol", data={"code": pyotp.TOTP(secret).at(now())}) \
        .get_data(as_text=True)
    assert_english(html, "Recovery codes", "Two-step verification is now active.",
                   "<strong>they will not be shown again.</strong>", "Continue")
    assert len(RECOVERY_CODE_RE.findall(html)) == 10


def test_client_pages_in_english(client, admin):
    html = page(client, "/admin/clients")
    assert_english(html, "Applications", "Search by ID or name", "Register a new application")
    html = page(client, "/admin/clients/new")
    assert_english(html, "Persian name (shown to citizens)", "Redirect URIs (one per line)",
                   "Confidential web portal (with a server)", "Register application",
                   "Only for private_key_jwt")
    html = client.post("/admin/clients/new", data={**FORM, "jwks": "{x"}).get_data(as_text=True)
    assert "The text entered is not valid JSON." in html
    html = client.post("/admin/clients/new", data={**FORM, "access_token_ttl": "1"}) \
        .get_data(as_text=True)
    assert re.search(r"The token lifetime must be between \d+ and \d+ seconds\.", html)
    created = client.post("/admin/clients/new", data=FORM).get_data(as_text=True)
    assert_english(created, "Application registered", "<strong>only this once</strong>",
                   "I have copied the secret; continue")
    client_id = re.search(r"<dt>client_id</dt><dd><code>([^<]+)</code>", created)[1]
    detail = page(client, f"/admin/clients/{client_id}")
    assert "Create a new secret" in detail and "Disable" in detail and "Edit" in detail
    rotated = client.post(f"/admin/clients/{client_id}/rotate-secret",
                          data={"grace_hours": "2"}).get_data(as_text=True)
    assert_english(rotated, "New secret created", "(Tehran time)")
    client.post(f"/admin/clients/{client_id}/disable")
    detail = page(client, f"/admin/clients/{client_id}")
    assert "Application disabled; its tokens are rejected from now on." in detail
    assert_english(page(client, f"/admin/clients/{client_id}/edit"),
                   f"Edit application “{FORM['name_fa']}”", "Save changes",
                   "cannot be changed after registration", data=FORM["name_fa"])
    assert_english(page(client, f"/admin/clients/{client_id}/delete"),
                   "Delete permanently", "This cannot be undone", data=FORM["name_fa"])
    response = client.post(f"/admin/clients/{client_id}/delete")
    assert "were deleted" in page(client, response.headers["Location"])
    missing = client.get("/admin/clients/nope").get_data(as_text=True)
    assert "The item you asked for does not exist" in missing


def test_registration_tokens_page_in_english(client, admin):
    html = page(client, "/admin/registration-tokens")
    assert_english(html, "Application registration tokens (DCR)", "Create token",
                   "Label (for whom or for what)", "No tokens have been created.")
    html = client.post("/admin/registration-tokens",
                       data={"label": "ci", "ttl_hours": "2", "max_uses": "1"}) \
        .get_data(as_text=True)
    assert "Token “ci” created." in html and "<strong>only this once</strong>" in html
    assert "Active" in html and "Revoke" in html and "0 / 1" in html


def test_support_pages_in_english(client, admin):
    citizen = make_user(mobile="09123334455")
    make_user(mobile="09123334455")
    html = page(client, "/admin/users")
    assert_english(html, "User support", "National code, FIDA code or mobile number",
                   "Exact matches only")
    listed = page(client, "/admin/users", query_string={"q": citizen.mobile})
    assert "Active" in listed and "<th>Status</th>" in listed
    vague = page(client, "/admin/users", query_string={"q": "12"})
    assert "Enter a national code (10 digits)" in vague
    detail = page(client, f"/admin/users/{citizen.id}")
    assert_english(detail, "National code", "Mobile number", "Forced password change",
                   "Lock account", "Sign out of all sessions", "Active sessions",
                   "Recent sign-ins", "Consents given to portals", "All events of this user",
                   data=citizen.full_name)
    response = client.post(f"/admin/users/{citizen.id}/lock")
    locked = page(client, response.headers["Location"])
    assert "The account was locked and all its sessions ended." in locked
    assert "Locked (by an administrator)" in locked and "Unlock" in locked


def test_audit_log_in_english(client, admin):
    make_client()
    html = page(client, "/admin/audit")
    assert_english(html, "Security events", "Event type", "Download CSV", "Page 1",
                   "Tehran time", "<option selected value=\"\">All</option>")
    bad = page(client, "/admin/audit", query_string={"date_from": "1403/09/30",
                                                     "date_to": "1403/09/01"})
    assert "The start date must be before the end date." in bad


def test_citizen_sees_the_english_refusal(client, auth):
    auth.sign_in(make_user())
    response = client.get("/admin/?lang=en")
    assert response.status_code == 403
    assert_english(response.get_data(as_text=True), "Access denied", "Error code:", "403")


def test_persian_stays_the_default(client, admin):
    html = page(client, "/admin/clients?lang=fa")
    assert '<html lang="fa" dir="rtl">' in html
    assert "برنامه‌های کاربردی" in html and "ثبت برنامه تازه" in html
    assert "Applications" not in html


def test_admin_messages_are_translated(app):
    """Every admin and clients message code has an English text."""
    codes = list(MESSAGES)
    admin_codes = codes[codes.index("client_type_invalid"):codes.index("id_code_invalid")]
    with app.test_request_context(), force_locale("en"):
        for code in admin_codes:
            assert not PERSIAN.search(message(code)), code


def test_jalali_times_use_the_digits_of_the_page(client, admin):
    english = page(client, "/admin/audit")
    assert re.search(r"<bdi>1[34]\d\d/\d\d/\d\d \d\d:\d\d:\d\d</bdi>", english)
    persian = page(client, "/admin/audit?lang=fa")
    assert re.search(r"<bdi>۱[۳۴][۰-۹]{2}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}:[۰-۹]{2}</bdi>",
                     persian)
