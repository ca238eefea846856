"""Scenarios 1–5 of issue 11: one citizen's day across two portals, in one browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from idp.messages import MESSAGES

from .conftest import Person
from .steps import PASSWORD, expect_portal_signed_in, register, sign_in

NEW_PASSWORD = "Tazeh1404Ramz"


@pytest.fixture(scope="module")
def citizen(browser, servers):
    someone = Person(browser, servers, "journey")
    yield someone
    someone.close()
    someone.assert_clean("after the journey")


@pytest.fixture(scope="module")
def record(servers, taken):
    return servers["db"].free_citizen("national", taken)


def full_name(record: dict) -> str:
    return f"{record['first_name']} {record['last_name']}"


def test_1_register_from_eservices(citizen, record):
    """«ثبت نام» at eservices: the whole wizard, the success message, back signed in."""
    page = citizen.goto("eservices")
    expect(page.locator("h1")).to_have_text("خدمات غیرحضوری")
    citizen.step("eservices-home")
    page.get_by_role("link", name="ثبت نام").click()
    register(citizen, record, "citizen.one@example.ir")
    page.get_by_role("link", name="ادامه").click()
    shown = expect_portal_signed_in(citizen, "eservices", full_name(record))
    code = record["id_code"]
    assert shown["masked-code"] == code[:3] + "*****" + code[-2:]
    assert shown["amr"] == "sms"
    expect(page.locator("main")).not_to_contain_text(code)  # masked everywhere on the page
    citizen.step("eservices-signed-in")


def test_2_profile_is_signed_in_without_a_password(citizen, record):
    """At profile, «ورود» comes back signed in at once: the same person, the same SSO session."""
    eservices = expect_portal_signed_in(citizen, "eservices", full_name(record))
    page = citizen.goto("profile")
    expect(page.locator("h1")).to_have_text("پروفایل")
    citizen.step("profile-home")
    citizen.visited.clear()
    page.get_by_role("link", name="ورود", exact=True).click()
    shown = expect_portal_signed_in(citizen, "profile", full_name(record))
    assert not [url for url in citizen.visited if "/login" in url], citizen.visited
    assert shown["masked-code"] == eservices["masked-code"]
    assert shown["sid"] == eservices["sid"]
    citizen.step("profile-signed-in")


def test_3_reauthentication_at_profile_keeps_eservices(citizen, record, servers):
    """«ورود دوباره» (max_age=0) asks for the password; eservices stays signed in."""
    db = servers["db"]
    before = citizen.page.locator("[data-claim=auth_time]").get_attribute("data-value")
    jobs_before = len(db.logout_jobs("eservices"))
    citizen.page.get_by_role("link", name="ورود دوباره (تأیید هویت)").click()
    sign_in(citizen, record["id_code"], PASSWORD, "reauth-password")
    shown = expect_portal_signed_in(citizen, "profile", full_name(record))
    assert shown["auth_time"] >= int(before)
    assert "pwd" in shown["amr"].split()
    citizen.step("profile-reauthenticated")
    db.wait_for_logouts()
    page = citizen.goto("eservices", "/me")
    # Still signed in: no back-channel logout went to eservices (login_user "replaced"
    # the session and logged its portals out before the fix).
    assert len(db.logout_jobs("eservices")) == jobs_before
    expect(page.locator("h1")).to_have_text(full_name(record))
    citizen.step("eservices-still-signed-in")


def test_4_change_password_on_the_account_page(citizen, record, browser, servers):
    """«تغییر گذرواژه»: the new password works, the old one no longer does."""
    page = citizen.goto("idp", "/account")
    expect(page.locator("h1").first).to_be_visible()
    citizen.step("account")
    page.get_by_role("link", name="تغییر گذرواژه").click()
    page.locator("input[name=current_password]").fill(PASSWORD)
    page.locator("input[name=new_password]").fill(NEW_PASSWORD)
    page.locator("input[name=confirm]").fill(NEW_PASSWORD)
    citizen.step("change-password", axe=True)
    page.get_by_role("button", name="ثبت گذرواژه جدید").click()
    expect(page.get_by_text("گذرواژه جدید ثبت شد.")).to_be_visible()
    citizen.step("password-changed")

    other = Person(browser, servers, "journey-other-device")
    try:
        other.goto("idp", "/login")
        sign_in(other, record["id_code"], PASSWORD, "old-password")
        expect(other.page.get_by_text(MESSAGES["login_failed"])).to_be_visible()
        other.step("old-password-refused")
        sign_in(other, record["id_code"], NEW_PASSWORD, "new-password")
        expect(other.page).to_have_url(other.url("idp", "/account"))
        other.step("new-password-signed-in")
        other.assert_clean()
    finally:
        other.close()


def test_5_sign_out_at_profile_signs_eservices_out(citizen, record, servers):
    """«خروج» at profile: eservices' local session ends too (back-channel), and the IdP
    asks for the password again."""
    page = citizen.goto("eservices", "/me")
    if page.url != citizen.url("eservices", "/me"):  # ended by an earlier failure: sign in
        page.get_by_role("link", name="ورود", exact=True).click()
        expect_portal_signed_in(citizen, "eservices", full_name(record))
    page = citizen.goto("profile", "/me")
    expect_portal_signed_in(citizen, "profile", full_name(record))
    page.get_by_role("button", name="خروج").click()
    expect(page.get_by_text("از سامانه خارج شدید.")).to_be_visible()
    citizen.step("profile-signed-out")
    servers["db"].wait_for_logouts()
    page = citizen.goto("eservices", "/me")
    expect(page).to_have_url(citizen.url("eservices", "/"))
    expect(page.get_by_role("link", name="ورود", exact=True)).to_be_visible()
    citizen.step("eservices-signed-out")
    page.get_by_role("link", name="ورود", exact=True).click()
    expect(page.locator("h1")).to_contain_text("ورود به سامانه")
    expect(page.locator("input[name=password]")).to_be_empty()
    citizen.step("password-asked-again")
