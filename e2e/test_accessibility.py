"""axe-core on the pages not already checked by the scenarios: consent, account, admin.

(The sign-in, wizard and recovery pages are checked by the scenarios' ``step(axe=True)``.)
"""

from __future__ import annotations

import json
import re

import pyotp
import pytest
from playwright.sync_api import expect

from .conftest import fa
from .steps import sign_in

PASSWORD = "Dastrasi1404Ok"


@pytest.fixture(scope="module")
def account(servers, taken):
    """A citizen made with `flask users create`, so these tests share nobody's password."""
    record = servers["db"].free_citizen("national", taken)
    created = json.loads(servers["flask"]("users", "create", record["id_code"],
                                          "--password", PASSWORD, "--json"))
    return {**record, **created}


def test_consent_page(person, servers, account):
    """A third-party portal: the consent page lists what it asks for."""
    servers["flask"]("clients", "create", "--name", "سامانه نوبت‌دهی", "--name-en", "booking",
                     "--client-id", "booking", "--scope", "openid profile phone",
                     "--redirect-uri", servers["eservices"] + "/booking-callback")
    page = person.goto("idp", "/login")
    sign_in(person, account["id_code"], PASSWORD)
    page.goto(person.url("idp", "/authorize?response_type=code&client_id=booking"
                                "&scope=openid%20profile%20phone&state=s&nonce=n"
                                "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                                "&code_challenge_method=S256&redirect_uri="
                                + servers["eservices"] + "/booking-callback"))
    expect(page.locator("main")).to_contain_text("سامانه نوبت‌دهی")
    person.step("consent", axe=True)


def test_account_page(person, account):
    page = person.goto("idp", "/login")
    sign_in(person, account["id_code"], PASSWORD)
    expect(page).to_have_url(person.url("idp", "/account"))
    expect(page.locator("main")).to_contain_text(fa(account["id_code"]))
    person.step("account", axe=True)


def test_admin_pages(person, servers, account):
    """An admin's first visit: TOTP enrolment, then the home, clients and audit pages."""
    servers["flask"]("users", "grant-admin", account["id_code"])
    page = person.goto("idp", "/admin")
    sign_in(person, account["id_code"], PASSWORD, "admin-sign-in")
    secret = page.locator(".totp-secret").inner_text()
    person.step("admin-enrol", axe=True)
    page.locator("input[name=code]").fill(pyotp.TOTP(re.sub(r"\s", "", secret)).now())
    page.get_by_role("button", name="فعال‌سازی").click()
    expect(page.locator("h1")).to_contain_text("کدهای بازیابی")
    person.step("admin-recovery-codes", axe=True)
    page.get_by_role("link", name="ادامه").click()
    person.step("admin-home", axe=True)
    for path, label in [("/admin/clients", "admin-clients"),
                        ("/admin/clients/eservices", "admin-client"),
                        ("/admin/audit", "admin-audit"), ("/admin/users", "admin-users")]:
        page.goto(person.url("idp", path))
        expect(page.locator("h1").first).to_be_visible()
        person.step(label, axe=True)
