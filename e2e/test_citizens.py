"""Scenarios 6–8 of issue 11: recovery, a foreign national, and wrong input in the wizard."""

from __future__ import annotations

from playwright.sync_api import expect

from idp.messages import MESSAGES

from .conftest import Person, fa
from .steps import (
    PASSWORD,
    choose_user_type,
    expect_portal_signed_in,
    expect_step,
    fill_identity,
    press,
    register,
    sign_in,
)

RECOVERED = "Bazyabi1404Ok"


def test_6_forgotten_password_then_sign_in_with_the_new_one(person, servers, browser):
    """«فراموشی گذرواژه» from eservices' sign-in: the SMS code, a new password, back at
    eservices signed in; another browser signs in with the new password."""
    demo, db = servers["demo"], servers["db"]
    user = db.user(demo["id_code"])
    name = f"{user['first_name']} {user['last_name']}"
    page = person.goto("eservices")
    page.get_by_role("link", name="ورود", exact=True).click()
    expect(page.locator("h1")).to_contain_text("ورود به سامانه")
    page.get_by_role("link", name="فراموشی گذرواژه").click()
    expect(page.locator("h1")).to_contain_text("فراموشی گذرواژه")
    page.locator("input[name=id_code]").fill(fa(demo["id_code"]))
    person.step("recovery-1-code", axe=True)
    before = db.last_sms_id()
    page.get_by_role("button", name="مرحله بعد").click()
    expect(page.get_by_text("کد احراز هویت به شماره همراه ثبت‌شده در آن پیامک شد")).to_be_visible()
    page.locator("input[name=code]").fill(fa(db.sms_code(user["mobile"], before)))
    person.step("recovery-2-sms-code", axe=True)
    page.get_by_role("button", name="مرحله بعد").click()
    page.locator("input[name=new_password]").fill(RECOVERED)
    page.locator("input[name=confirm]").fill(RECOVERED)
    person.step("recovery-3-new-password", axe=True)
    page.get_by_role("button", name="ثبت گذرواژه جدید").click()
    shown = expect_portal_signed_in(person, "eservices", name)
    assert set(shown["amr"].split()) == {"pwd", "sms"}
    person.step("recovered-at-eservices")

    other = Person(browser, servers, "recovery-other-device")
    try:
        other.goto("eservices").get_by_role("link", name="ورود", exact=True).click()
        sign_in(other, demo["id_code"], RECOVERED, "sign-in-new-password")
        expect_portal_signed_in(other, "eservices", name)
        other.step("signed-in-with-new-password")
        other.assert_clean()
    finally:
        other.close()


def test_7_foreign_national_registers_with_a_fida_code(person, servers, taken):
    """«اتباع خارجی» from profile's «ثبت نام»: the FIDA code, then back at profile."""
    record = servers["db"].free_citizen("fida", taken)
    page = person.goto("profile")
    page.get_by_role("link", name="ثبت نام").click()
    register(person, record, "foreign.national@example.ir")
    page.get_by_role("link", name="ادامه").click()
    shown = expect_portal_signed_in(person, "profile", f"{record['first_name']} "
                                                       f"{record['last_name']}")
    code = record["id_code"]
    assert len(code) == 12 and shown["masked-code"] == code[:3] + "*" * 7 + code[-2:]
    person.step("profile-fida-signed-in")


def field_error(person, name: str):
    """The error shown beside the field ``name`` (linked by aria-describedby)."""
    field = person.page.locator(f"[name={name}]").first
    expect(field).to_have_attribute("aria-invalid", "true")
    return person.page.locator("#" + field.get_attribute("aria-describedby"))


def test_8_wrong_input_on_each_step(person, servers, taken):
    """Each wizard step: the Persian error beside the field, what was typed kept (never the
    password)."""
    db = servers["db"]
    record = db.free_citizen("national", taken)
    stranger = db.free_citizen("national", taken)
    page = person.goto("idp", "/register")
    press(person, "شروع ثبت نام")  # no user type chosen
    expect(page.locator(".field-error")).to_have_text(MESSAGES["required"])
    person.step("error-0-user-type", axe=True)
    choose_user_type(person, "national")

    # Step 1: a mobile that belongs to someone else.
    page.locator("input[name=id_code]").fill(fa(record["id_code"]))
    page.locator("input[name=mobile]").fill(fa(stranger["mobile"]))
    press(person, "مرحله بعد")
    expect(page.get_by_text(MESSAGES["registration_mobile_not_owned"])).to_be_visible()
    expect_step(person, 1)
    assert page.locator("input[name=id_code]").input_value().translate(
        str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")) == record["id_code"]
    person.step("error-1-mobile-not-owned", axe=True)
    page.locator("input[name=mobile]").fill(record["mobile"])
    before = db.last_sms_id()
    press(person, "مرحله بعد")
    page.locator("input[name=code]").fill("000000" if db.sms_code(record["mobile"], before)
                                          != "000000" else "111111")
    press(person, "مرحله بعد")
    expect(field_error(person, "code")).to_contain_text("کد تأیید درست نیست.")
    person.step("error-1-wrong-sms-code", axe=True)
    page.locator("input[name=code]").fill(db.sms_code(record["mobile"], before))
    press(person, "مرحله بعد")
    expect_step(person, 2)

    # Step 2: a birth year that is not the registry's.
    year, month, day = record["jalali"]
    fill_identity(person, record, jalali=(year - 1, month, day))
    press(person, "مرحله بعد")
    expect_step(person, 2)
    birth = page.locator("fieldset", has=page.locator("select[name=birth_year]"))
    expect(birth).to_contain_text("تاریخ تولد")
    expect(birth.locator(".field-error, [role=alert]").first).to_contain_text(
        "تاریخ تولد با اطلاعات ثبت احوال")
    expect(page.locator("input[name=first_name]")).to_have_value(record["first_name"])
    expect(page.locator("input[name=father_name]")).to_have_value(record["father_name"])
    expect(page.locator("select[name=birth_day]")).to_have_value(str(day))
    person.step("error-2-birth-date", axe=True)
    fill_identity(person, record)
    press(person, "مرحله بعد")
    expect_step(person, 3)

    # Step 3: an address without a domain.
    page.locator("input[name=email]").fill("citizen.example.ir")
    press(person, "مرحله بعد")
    expect(field_error(person, "email")).to_have_text(MESSAGES["email_invalid"])
    expect(page.locator("input[name=email]")).to_have_value("citizen.example.ir")
    person.step("error-3-email", axe=True)
    page.locator("input[name=email]").fill("citizen.eight@example.ir")
    press(person, "مرحله بعد")
    press(person, "بعداً")  # verify the address later, from the account page
    expect_step(person, 4)

    # Step 4: the repetition differs; neither password comes back.
    page.locator("input[name=new_password]").fill(PASSWORD)
    page.locator("input[name=confirm]").fill(PASSWORD + "x")
    press(person, "مرحله بعد")
    expect(field_error(person, "confirm")).to_have_text(MESSAGES["password_mismatch"])
    expect(page.locator("input[name=new_password]")).to_have_value("")
    expect(page.locator("input[name=confirm]")).to_have_value("")
    person.step("error-4-password-mismatch", axe=True)
    page.locator("input[name=new_password]").fill("short")
    page.locator("input[name=confirm]").fill("short")
    press(person, "مرحله بعد")
    expect(page.locator("[role=alert]").first).to_be_visible()
    expect_step(person, 4)
    person.step("error-4-password-rules")
    page.locator("input[name=new_password]").fill(PASSWORD)
    page.locator("input[name=confirm]").fill(PASSWORD)
    press(person, "مرحله بعد")
    expect_step(person, 5)
    press(person, "تایید و ثبت نام")
    expect(page.get_by_text(MESSAGES["registration_done"])).to_be_visible()
    expect(page.get_by_role("link", name="ورود به سامانه").last).to_be_visible()
    person.step("done-without-portal")
